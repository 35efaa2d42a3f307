import { Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TenantThrottlerGuard } from '../throttling/tenant-throttler.guard';
import { ThrottlingModule } from '../throttling/throttling.module';
import { RateLimitVerdictInterceptor } from '../throttling/rate-limit-verdict.interceptor';
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
    { provide: APP_GUARD, useClass: TenantThrottlerGuard },
    // Holds a read's answer until its rate-limit verdict, which the throttler guard sends along.
    { provide: APP_INTERCEPTOR, useClass: RateLimitVerdictInterceptor },
  ],
})
export class AuthModule {}
