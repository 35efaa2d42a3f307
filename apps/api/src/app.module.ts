import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
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
import { AuditModule } from './audit/audit.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { pinoParams } from './common/logging/log-serializers';
import { MetricsModule } from './metrics/metrics.module';
import { BackupModule } from './backup/backup.module';
import { EventsModule } from './events/events.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { SubjectsModule } from './subjects/subjects.module';
import { StoreMetricsObserver } from './metrics/store-metrics';

@Module({})
export class AppModule {
  /**
   * `logger`: the root logger (see createRootLogger), made by createApp. `tracing`: spans are
   * exported. A command then has to be written in its own request's async context to get that
   * request's span as parent, which auto-pipelining (commands written later, in a batch started by
   * whichever request came first) does not do, so tracing turns it off.
   */
  static forRoot(config: AppConfig, logger: Logger, tracing = false): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LifecycleModule,
        LoggerModule.forRoot(pinoParams(logger)),
        RedisModule.forRoot({
          url: config.redis.url,
          keyPrefix: config.redis.keyPrefix,
          commandTimeoutMs: config.redis.commandTimeoutMs,
          connectTimeoutMs: config.redis.connectTimeoutMs,
          evictionPolicyCheck: config.redis.evictionPolicyCheck,
          eventsRetentionMs: config.events.retentionMs,
          minReplicasAck: config.redis.minReplicasAck,
          replicaAckTimeoutMs: config.redis.replicaAckTimeoutMs,
          readFrom: config.redis.readFrom,
          replicaUrl: config.redis.replicaUrl,
          replicaMaxStalenessMs: config.redis.replicaMaxStalenessMs,
          replicaReadTimeoutMs: config.redis.replicaReadTimeoutMs,
          autoPipelining: config.redis.autoPipelining && !tracing,
          sessionL1: config.sessions.l1Cache,
          breaker: config.redis.breaker,
          codec: {
            compressionMinBytes: config.storage.compressionMinBytes,
            encryptionKeys: config.storage.encryptionKeys,
          },
          observer: new StoreMetricsObserver(),
        }),
        AuthModule,
        HealthModule,
        SessionsModule,
        MemoryModule,
        MaintenanceModule,
        CacheModule,
        AuditModule,
        DashboardModule,
        MetricsModule,
        BackupModule,
        EventsModule,
        WebhooksModule,
        SubjectsModule,
      ],
      // No global interceptor: the audit frame (AuditRecorder) and a read's rate-limit verdict
      // (installRateLimitVerdict) are Fastify hooks, so a route without interceptors of its own
      // skips Nest's per-interceptor rxjs chain and async resource.
      providers: [{ provide: APP_FILTER, useClass: ProblemDetailsFilter }],
    };
  }
}
