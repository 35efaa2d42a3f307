import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-client.factory';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { PayloadCodec } from '../payload-codec';
import { REDIS_CLIENT } from '../redis.constants';
import { replicatedWrite } from '../replicated-write';
import { storeCall } from '../store-errors';
import {
  WebhookRepository,
  type ParkedDelivery,
  type StoredWebhook,
  type WebhookRetry,
} from './webhook.repository';
import {
  ADVANCE_WEBHOOK,
  RECORD_WEBHOOK_RETRY,
  RELEASE_WEBHOOK_LEASE,
  SETTLE_WEBHOOK_REDELIVERY,
  TAKE_WEBHOOK_LEASE,
} from './webhook.scripts';

interface StoredWebhookJson {
  url: string;
  event_types: string[];
  /** PayloadCodec-encoded (encrypted at rest when STORAGE encryption keys are configured). */
  secret: string;
  created_at: number;
  created_by: string;
}

@Injectable()
export class RedisWebhookRepository extends WebhookRepository {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
    private readonly codec: PayloadCodec,
  ) {
    super();
  }

  async create(tenant: string, webhook: StoredWebhook, cursor: string): Promise<void> {
    const space = this.keys.events(tenant);
    const json: StoredWebhookJson = {
      url: webhook.url,
      event_types: webhook.eventTypes,
      secret: this.codec.encode(webhook.secret),
      created_at: webhook.createdAt,
      created_by: webhook.createdBy,
    };
    // The registry lives in its own slot: registered first, so a webhook is never unvisited.
    // Both wait for replicas (two slots on Cluster, so two calls): a webhook whose tenant fell out
    // of the registry in a failover would never be delivered to.
    await replicatedWrite(this.redis, 'webhook.register-tenant', (p) =>
      p.sadd(this.keys.webhookTenants(), tenant),
    );
    await replicatedWrite(
      this.redis,
      'webhook.create',
      (p) =>
        p
          .set(space.webhook(webhook.id).cursor, cursor)
          .hset(space.webhooks, webhook.id, JSON.stringify(json)),
      { atomic: true },
    );
  }

  async list(tenant: string): Promise<StoredWebhook[]> {
    const raw = await storeCall(() => this.redis.hgetall(this.keys.events(tenant).webhooks));
    return Object.entries(raw)
      .map(([id, value]) => {
        const json = JSON.parse(value) as StoredWebhookJson;
        return {
          id,
          url: json.url,
          eventTypes: json.event_types,
          secret: String(this.codec.decode(json.secret)),
          createdAt: json.created_at,
          createdBy: json.created_by,
        };
      })
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async delete(tenant: string, webhookId: string): Promise<boolean> {
    const space = this.keys.events(tenant);
    const keys = space.webhook(webhookId);
    const [removed] = await replicatedWrite(
      this.redis,
      'webhook.delete',
      (p) =>
        p
          .hdel(space.webhooks, webhookId)
          .del(keys.cursor, keys.lease, keys.retry, keys.dead, keys.deadOrder, keys.redeliver),
      { atomic: true },
    );
    return Number(removed) === 1;
  }

  async tenants(): Promise<string[]> {
    return storeCall(() => this.redis.smembers(this.keys.webhookTenants()));
  }

  async lease(tenant: string, webhookId: string, token: string, ttlMs: number): Promise<boolean> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    const taken = await storeCall(() =>
      TAKE_WEBHOOK_LEASE.run(this.redis, [keys.lease], [token, ttlMs]),
    );
    return taken === 1;
  }

  async release(tenant: string, webhookId: string, token: string): Promise<void> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    await storeCall(() => RELEASE_WEBHOOK_LEASE.run(this.redis, [keys.lease], [token]));
  }

  async cursor(tenant: string, webhookId: string): Promise<string | null> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    return storeCall(() => this.redis.get(keys.cursor));
  }

  async retry(tenant: string, webhookId: string): Promise<WebhookRetry | null> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    const raw = await storeCall(() => this.redis.hgetall(keys.retry));
    if (raw.event_id === undefined) return null;
    return {
      eventId: raw.event_id,
      attempts: Number(raw.attempts),
      nextAt: Number(raw.next_at),
      lastError: raw.last_error ?? '',
    };
  }

  async recordRetry(
    tenant: string,
    webhookId: string,
    token: string,
    retry: WebhookRetry,
  ): Promise<boolean> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    const done = await storeCall(() =>
      RECORD_WEBHOOK_RETRY.run(
        this.redis,
        [keys.lease, keys.retry],
        [token, retry.eventId, retry.attempts, retry.nextAt, retry.lastError],
      ),
    );
    return done === 1;
  }

  async advance(
    tenant: string,
    webhookId: string,
    token: string,
    eventId: string,
    parked?: ParkedDelivery,
  ): Promise<boolean> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    const done = await storeCall(() =>
      ADVANCE_WEBHOOK.run(
        this.redis,
        [keys.lease, keys.cursor, keys.retry, keys.dead, keys.deadOrder],
        [
          token,
          eventId,
          parked ? '1' : '0',
          parked ? JSON.stringify(parked) : '',
          parked?.parkedAt ?? 0,
        ],
      ),
    );
    return done === 1;
  }

  async parked(tenant: string, webhookId: string, limit: number): Promise<ParkedDelivery[]> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    const ids = await storeCall(() => this.redis.zrange(keys.deadOrder, 0, String(limit - 1)));
    if (ids.length === 0) return [];
    const values = await storeCall(() => this.redis.hmget(keys.dead, ...ids));
    return values.flatMap((value) => (value ? [JSON.parse(value) as ParkedDelivery] : []));
  }

  async parkedOne(
    tenant: string,
    webhookId: string,
    deliveryId: string,
  ): Promise<ParkedDelivery | null> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    const value = await storeCall(() => this.redis.hget(keys.dead, deliveryId));
    return value ? (JSON.parse(value) as ParkedDelivery) : null;
  }

  async queueRedelivery(tenant: string, webhookId: string, deliveryId: string): Promise<void> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    await replicatedWrite(this.redis, 'webhook.queue-redelivery', (p) =>
      p.rpush(keys.redeliver, deliveryId),
    );
  }

  async nextRedelivery(tenant: string, webhookId: string): Promise<string | null> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    return storeCall(() => this.redis.lpop(keys.redeliver));
  }

  async settleRedelivery(
    tenant: string,
    webhookId: string,
    token: string,
    deliveryId: string,
    failed?: ParkedDelivery,
  ): Promise<boolean> {
    const keys = this.keys.events(tenant).webhook(webhookId);
    const done = await storeCall(() =>
      SETTLE_WEBHOOK_REDELIVERY.run(
        this.redis,
        [keys.lease, keys.dead, keys.deadOrder],
        [token, deliveryId, failed ? '1' : '0', failed ? JSON.stringify(failed) : ''],
      ),
    );
    return done === 1;
  }
}
