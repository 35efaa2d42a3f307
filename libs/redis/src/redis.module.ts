import {
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { createRedisClient, type RedisClient } from './connection/redis-client.factory';
import { redactRedisUrl } from './connection/redis-url';
import { attachedReader } from './connection/read-replicas';
import { Cluster } from 'ioredis';
import { attachBreaker, attachNodeBreakers } from './connection/breaker-gate';
import type { CircuitBreaker } from './connection/circuit-breaker';
import { RedisKeyBuilder } from './keys/redis-key-builder';
import { PayloadCodec } from './payload-codec';
import { DEFAULT_COMPRESSION_MIN_BYTES, LayeredPayloadCodec } from './codecs/layered-payload-codec';
import { RedisHealthProbe } from './redis-health.probe';
import { EvictionPolicyError, evictingPolicies } from './connection/eviction-policy';
import {
  ConfigurableRedisModule,
  REDIS_MODULE_OPTIONS,
  type RedisModuleOptions,
} from './redis.module-definition';
import { REDIS_CLIENT } from './redis.constants';
import { CacheRepository } from './cache/cache.repository';
import { RedisCacheRepository } from './cache/redis-cache.repository';
import { RedisSessionRepository } from './sessions/redis-session.repository';
import { SessionRepository } from './sessions/session.repository';
import { MemoryRepository } from './memory/memory.repository';
import { RedisMemoryRepository } from './memory/redis-memory.repository';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { RedisIdempotencyRepository } from './idempotency/redis-idempotency.repository';
import { PayloadReencryptor } from './maintenance/payload-reencryptor';
import { RedisThrottlerStorage } from './throttler/redis-throttler.storage';
import { AuditRepository } from './audit/audit.repository';
import { RedisAuditRepository } from './audit/redis-audit.repository';
import {
  instrumentRepository,
  type BreakerClient,
  type ResultReporter,
} from './observability/store-observer';
import { reportSessionTransitions } from './sessions/session-transitions';
import { openSessionL1, SESSION_L1, type SessionL1 } from './sessions/session-l1';
import { StoreStatisticsReader } from './observability/store-statistics';
import { RequestRollupRepository } from './metrics/request-rollup.repository';
import { RedisRequestRollupRepository } from './metrics/redis-request-rollup.repository';
import { ApiKeyRepository } from './api-keys/api-key.repository';
import { BackupRepository } from './backup/backup.repository';
import { RedisBackupRepository } from './backup/redis-backup.repository';
import { RedisApiKeyRepository } from './api-keys/redis-api-key.repository';
import { EventsRepository } from './events/events.repository';
import { RedisEventsRepository } from './events/redis-events.repository';
import { WebhookRepository } from './webhooks/webhook.repository';
import { RedisWebhookRepository } from './webhooks/redis-webhook.repository';
import { SubjectRepository } from './subjects/subject.repository';
import { RedisSubjectRepository } from './subjects/redis-subject.repository';

/** Binds a repository contract to its Redis implementation, wrapped for the store observer. */
function instrumented<T extends object>(
  contract: abstract new (...args: never[]) => T,
  implementation: new (...args: never[]) => T,
  entity: string,
  report?: ResultReporter,
) {
  return {
    provide: contract,
    inject: [implementation, REDIS_MODULE_OPTIONS],
    useFactory: (repository: T, options: RedisModuleOptions) =>
      instrumentRepository(repository, entity, options.observer, report),
  };
}

/**
 * Puts a circuit breaker (REDIS_BREAKER_*) in front of one connection that serves requests, with
 * its own state, log lines and metric series: a hung Redis must not hold requests on any of them.
 * On a Cluster, one per node: a dead master must not get the other masters' slots refused too.
 */
function guardWithBreaker(
  client: RedisClient,
  name: BreakerClient,
  options: RedisModuleOptions,
): void {
  const policy = options.breaker;
  if (!policy || policy.failureThreshold <= 0) return;
  const logger = new Logger('Redis');
  const which = name === 'main' ? '' : ` (${name} connection)`;
  const report = (breaker: CircuitBreaker, node?: string) => {
    const where = node === undefined ? which : ` (node ${node})`;
    breaker.onTransition((from, to, reason) => {
      logger.warn(
        to === 'open'
          ? `circuit breaker${where} open (${reason}): commands fail at once with 503 until Redis answers a probe PING`
          : `circuit breaker${where} ${from} -> ${to}: ${reason}`,
      );
      options.observer?.breakerTransition?.(from, to, name, node);
    });
  };
  if (client instanceof Cluster) {
    attachNodeBreakers(
      client,
      policy,
      ({ node, breaker }) => report(breaker, node),
      (node) => options.observer?.breakerGone?.(name, node),
    );
    return;
  }
  report(attachBreaker(client, policy));
}

@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [REDIS_MODULE_OPTIONS],
      useFactory: (options: RedisModuleOptions): RedisClient => {
        const logger = new Logger('Redis');
        const client = createRedisClient(options);
        let wasReady = false;
        client.on('ready', () => {
          wasReady = true;
          logger.log(`connected to ${redactRedisUrl(options.url)}`);
        });
        // ioredis emits 'error' on every failed reconnect; log the first of each outage only.
        client.on('error', (error: Error) => {
          if (wasReady || client.status === 'connecting') {
            logger.warn(`Redis unavailable: ${error.message}`);
            wasReady = false;
          }
        });
        guardWithBreaker(client, 'main', options);
        let readerWasReady = false;
        const reader = attachedReader(client);
        reader?.on('ready', () => {
          readerWasReady = true;
          logger.log('connected to a replica for reads (REDIS_READ_FROM=replica)');
        });
        reader?.on('error', (error: Error) => {
          if (readerWasReady) logger.warn(`Redis replica unavailable: ${error.message}`);
          readerWasReady = false;
        });
        return client;
      },
    },
    {
      provide: RedisKeyBuilder,
      inject: [REDIS_MODULE_OPTIONS],
      useFactory: (options: RedisModuleOptions) =>
        new RedisKeyBuilder(options.keyPrefix, options.eventsRetentionMs),
    },
    {
      // JSON, gzip above a threshold, AES-256-GCM with a key ring: every repository gets it for free.
      provide: PayloadCodec,
      inject: [REDIS_MODULE_OPTIONS],
      useFactory: (options: RedisModuleOptions) =>
        new LayeredPayloadCodec({
          compressionMinBytes: options.codec?.compressionMinBytes ?? DEFAULT_COMPRESSION_MIN_BYTES,
          encryptionKeys: options.codec?.encryptionKeys ?? [],
        }),
    },
    {
      provide: SESSION_L1,
      inject: [REDIS_MODULE_OPTIONS],
      useFactory: (options: RedisModuleOptions) =>
        openSessionL1(options, options.sessionL1, undefined, (reader) =>
          guardWithBreaker(reader, 'session_l1', options),
        ),
    },
    RedisSessionRepository,
    RedisMemoryRepository,
    RedisIdempotencyRepository,
    RedisCacheRepository,
    instrumented(SessionRepository, RedisSessionRepository, 'session', reportSessionTransitions),
    instrumented(MemoryRepository, RedisMemoryRepository, 'memory'),
    instrumented(IdempotencyRepository, RedisIdempotencyRepository, 'idempotency'),
    PayloadReencryptor,
    instrumented(CacheRepository, RedisCacheRepository, 'cache'),
    RedisHealthProbe,
    RedisThrottlerStorage,
    { provide: AuditRepository, useClass: RedisAuditRepository },
    StoreStatisticsReader,
    { provide: RequestRollupRepository, useClass: RedisRequestRollupRepository },
    { provide: ApiKeyRepository, useClass: RedisApiKeyRepository },
    { provide: BackupRepository, useClass: RedisBackupRepository },
    { provide: EventsRepository, useClass: RedisEventsRepository },
    { provide: WebhookRepository, useClass: RedisWebhookRepository },
    { provide: SubjectRepository, useClass: RedisSubjectRepository },
  ],
  exports: [
    SessionRepository,
    MemoryRepository,
    IdempotencyRepository,
    PayloadReencryptor,
    CacheRepository,
    RedisHealthProbe,
    RedisThrottlerStorage,
    AuditRepository,
    StoreStatisticsReader,
    RequestRollupRepository,
    ApiKeyRepository,
    BackupRepository,
    EventsRepository,
    WebhookRepository,
    SubjectRepository,
  ],
})
export class RedisModule
  extends ConfigurableRedisModule
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  constructor(
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
    @Inject(REDIS_MODULE_OPTIONS) private readonly options: RedisModuleOptions,
    @Inject(SESSION_L1) private readonly sessionL1: SessionL1 | undefined,
  ) {
    super();
  }

  /**
   * Gives the first connection a bounded head start, so a healthy start-up does not answer its
   * first requests with 503. If Redis is not there in time the API starts anyway (503 + failing
   * readiness) and connects whenever Redis appears.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.client.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.options.connectTimeoutMs);
        this.client.once('ready', done);
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    await this.checkEvictionPolicy();
  }

  /**
   * At start-up (refuse or warn) and after every reconnect (warn: a failover may land on a server
   * configured differently). Unknown while Redis is unreachable; checked when it connects.
   */
  private async checkEvictionPolicy(): Promise<void> {
    const mode = this.options.evictionPolicyCheck ?? 'warn';
    if (mode === 'off') return;
    const logger = new Logger('Redis');
    const check = async (refuse: boolean) => {
      const evicting = await evictingPolicies(this.client).catch(() => []);
      if (evicting.length === 0) return;
      const error = new EvictionPolicyError(evicting);
      if (refuse) throw error;
      logger.error(error.message);
    };
    if (this.client.status === 'ready') await check(mode === 'refuse');
    this.client.on('ready', () => void check(false));
  }

  async onApplicationShutdown(): Promise<void> {
    // quit() waits for pending replies; disconnect() when Redis is already gone.
    const reader = attachedReader(this.client);
    await Promise.all([
      ...[this.client, ...(reader ? [reader] : [])].map((client) =>
        client.quit().catch(() => client.disconnect()),
      ),
      this.sessionL1?.close(),
    ]);
  }
}
