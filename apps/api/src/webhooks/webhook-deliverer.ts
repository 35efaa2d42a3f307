import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EventsRepository, WebhookRepository, type StoredWebhook } from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { toEventView } from '../events/event-view';
import { signWebhook } from './webhook-signature';
import { refusalOf } from './webhook-url';

/** Events one webhook's turn looks at (one XRANGE); the next turn continues. */
const BATCH = 50;
/** Parked deliveries one webhook's turn redelivers. */
const REDELIVERIES_PER_TURN = 10;

/**
 * Delivers each webhook's events in feed order, from a cursor kept in Redis (so a restart resumes
 * where the last delivery ended). Every replica runs one; a lease per webhook (SET NX PX, renewed
 * before each attempt, released after each turn) lets one replica at a time deliver a webhook, and
 * every state change is fenced by it (see webhook.scripts.ts). A failed delivery blocks the
 * webhook's later events until it succeeds or is parked, which keeps order per resource.
 * At least once: a replica that dies after a receiver answered but before the cursor moved sends
 * that event again (same Webhook-Id, so receivers can drop the repeat).
 */
@Injectable()
export class WebhookDeliverer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  /** This replica's lease token. */
  private readonly token = randomUUID();
  private timer?: NodeJS.Timeout;
  private turn?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly events: EventsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.webhooks.pollIntervalMs;
    if (interval === 0) return;
    this.timer = setInterval(() => void this.tick(), interval);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.turn;
  }

  /** One pass over every webhook of every tenant (skipped while the previous pass runs). */
  tick(): Promise<void> {
    if (this.turn || this.stopped) return this.turn ?? Promise.resolve();
    this.turn = this.pass()
      .catch((error: unknown) => this.logger.warn(`delivery pass failed: ${String(error)}`))
      .finally(() => (this.turn = undefined));
    return this.turn;
  }

  private async pass(): Promise<void> {
    for (const tenant of await this.webhooks.tenants()) {
      for (const webhook of await this.webhooks.list(tenant)) {
        if (this.stopped) return;
        await this.serve(tenant, webhook);
      }
    }
  }

  private leaseMs(): number {
    return this.config.webhooks.timeoutMs + 5000;
  }

  private async serve(tenant: string, webhook: StoredWebhook): Promise<void> {
    if (!(await this.webhooks.lease(tenant, webhook.id, this.token, this.leaseMs()))) return;
    try {
      await this.redeliverQueued(tenant, webhook);
      await this.deliverNew(tenant, webhook);
    } finally {
      await this.webhooks.release(tenant, webhook.id, this.token);
    }
  }

  private async deliverNew(tenant: string, webhook: StoredWebhook): Promise<void> {
    const cursor = await this.webhooks.cursor(tenant, webhook.id);
    if (cursor === null) return;
    const retry = await this.webhooks.retry(tenant, webhook.id);
    if (retry && retry.nextAt > Date.now()) return;
    const wanted = new Set(webhook.eventTypes);
    const { maxAttempts } = this.config.webhooks;
    for (const event of await this.events.range(tenant, cursor, BATCH)) {
      if (this.stopped) return;
      if (!wanted.has(event.type)) {
        if (!(await this.webhooks.advance(tenant, webhook.id, this.token, event.id))) return;
        continue;
      }
      // Renewed before each attempt: a lease that lapsed means another replica may be on it.
      if (!(await this.webhooks.lease(tenant, webhook.id, this.token, this.leaseMs()))) return;
      const body = JSON.stringify(toEventView(tenant, event));
      const attempts = (retry?.eventId === event.id ? retry.attempts : 0) + 1;
      const failure = await this.send(webhook, event.id, body);
      if (failure === null) {
        if (!(await this.webhooks.advance(tenant, webhook.id, this.token, event.id))) return;
        continue;
      }
      if (attempts >= maxAttempts) {
        const parked = {
          deliveryId: event.id,
          body,
          attempts,
          lastError: failure,
          parkedAt: Date.now(),
        };
        this.logger.warn(`webhook ${webhook.id}: parked ${event.id} after ${attempts} attempts`);
        if (!(await this.webhooks.advance(tenant, webhook.id, this.token, event.id, parked))) {
          return;
        }
        continue;
      }
      await this.webhooks.recordRetry(tenant, webhook.id, this.token, {
        eventId: event.id,
        attempts,
        nextAt: Date.now() + this.backoff(attempts),
        lastError: failure,
      });
      return;
    }
  }

  private async redeliverQueued(tenant: string, webhook: StoredWebhook): Promise<void> {
    for (let i = 0; i < REDELIVERIES_PER_TURN && !this.stopped; i++) {
      const deliveryId = await this.webhooks.nextRedelivery(tenant, webhook.id);
      if (deliveryId === null) return;
      const parked = await this.webhooks.parkedOne(tenant, webhook.id, deliveryId);
      if (parked === null) continue;
      if (!(await this.webhooks.lease(tenant, webhook.id, this.token, this.leaseMs()))) return;
      const failure = await this.send(webhook, deliveryId, parked.body);
      await this.webhooks.settleRedelivery(
        tenant,
        webhook.id,
        this.token,
        deliveryId,
        failure === null
          ? undefined
          : { ...parked, attempts: parked.attempts + 1, lastError: failure },
      );
    }
  }

  /** Exponential backoff with jitter: base·2^(n−1), capped, then a random 50–100 % of it. */
  private backoff(attempts: number): number {
    const { backoffBaseMs, backoffMaxMs } = this.config.webhooks;
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (attempts - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /** Null when the receiver answered 2xx, else why not. */
  private async send(
    webhook: StoredWebhook,
    deliveryId: string,
    body: string,
  ): Promise<string | null> {
    const refusal = await refusalOf(webhook.url, this.config.webhooks.allowPrivate);
    if (refusal !== null) return `url refused: ${refusal}`.slice(0, 500);
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'multi-agent-session-api-webhooks',
          'webhook-id': deliveryId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(webhook.secret, timestamp, body),
        },
        body,
        // A redirect could lead to an address the URL check never saw.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.webhooks.timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      return response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`;
    } catch (error) {
      // Bounded: it is stored with the parked delivery and documented as at most 512 characters.
      return (error as Error).name === 'TimeoutError'
        ? 'timed out'
        : (error as Error).message.slice(0, 500);
    }
  }
}
