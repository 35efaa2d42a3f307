import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TenantThrottlerGuard } from '../throttling/tenant-throttler.guard';
import { ThrottlingModule } from '../throttling/throttling.module';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { AuthenticationGuard } from './authentication.guard';
import { JwtStrategy } from './jwt.strategy';
import { PermissionsGuard } from './permissions.guard';

/**
 * Global guards, in this order: who is calling (JWT), may they (RBAC), how often (throttling).
 */
@Module({
  imports: [
    PassportModule.register({ session: false }),
    DiscoveryModule,
    ThrottlingModule,
    ApiKeysModule,
  ],
  providers: [
    JwtStrategy,
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: PermissionsGuard },
    // A read's answer waits for its rate-limit verdict in installRateLimitVerdict (a Fastify hook).
    { provide: APP_GUARD, useClass: TenantThrottlerGuard },
  ],
})
export class AuthModule {}
