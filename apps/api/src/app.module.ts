import { Module, RequestMethod, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { RedisModule } from '@app/redis';
import type { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { ProblemDetailsFilter } from './common/filters/problem-details.filter';
import { AuthModule } from './auth/auth.module';
import { HealthModule } from './health/health.module';
import { SessionsModule } from './sessions/sessions.module';
import { MemoryModule } from './memory/memory.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { CacheModule } from './cache/cache.module';
import { REQUEST_ID_HEADER } from './common/http/request-id';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggerModule.forRoot({
          forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
          pinoHttp: {
            level: config.logging.level,
            genReqId: (request) => String(request.headers[REQUEST_ID_HEADER]),
            // Credentials never reach the logs.
            redact: {
              paths: [
                'req.headers.authorization',
                'req.headers.cookie',
                'req.headers["x-api-key"]',
                'res.headers["set-cookie"]',
              ],
              censor: '[redacted]',
            },
            autoLogging: { ignore: (request) => (request.url ?? '').startsWith('/api/v1/health') },
          },
        }),
        RedisModule.forRoot({
          url: config.redis.url,
          keyPrefix: config.redis.keyPrefix,
          commandTimeoutMs: config.redis.commandTimeoutMs,
          connectTimeoutMs: config.redis.connectTimeoutMs,
          evictionPolicyCheck: config.redis.evictionPolicyCheck,
          codec: {
            compressionMinBytes: config.storage.compressionMinBytes,
            encryptionKeys: config.storage.encryptionKeys,
          },
        }),
        AuthModule,
        HealthModule,
        SessionsModule,
        MemoryModule,
        MaintenanceModule,
        CacheModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
