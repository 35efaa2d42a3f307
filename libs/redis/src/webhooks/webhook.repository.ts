/** A webhook as stored; the secret is only ever read by the delivery worker. */
export interface StoredWebhook {
  id: string;
  url: string;
  eventTypes: string[];
  secret: string;
  createdAt: number;
  createdBy: string;
}

/** The event a webhook is retrying (one at a time: deliveries keep the feed's order). */
export interface WebhookRetry {
  eventId: string;
  attempts: number;
  nextAt: number;
  lastError: string;
}

/** A delivery given up after its attempts, kept until redelivered. */
export interface ParkedDelivery {
  deliveryId: string;
  /** The body that was sent (the event JSON), so a redelivery sends exactly the same. */
  body: string;
  attempts: number;
  lastError: string;
  parkedAt: number;
}

/**
 * Webhooks and their delivery state. Every state change is fenced by the lease: a replica whose
 * lease has passed to another can no longer move the cursor, park or clear anything.
 */
export abstract class WebhookRepository {
  /** Stores the webhook with its cursor at `cursor` (deliveries start after it). */
  abstract create(tenant: string, webhook: StoredWebhook, cursor: string): Promise<void>;
  abstract list(tenant: string): Promise<StoredWebhook[]>;
  /** Removes the webhook and all its delivery state; false when it did not exist. */
  abstract delete(tenant: string, webhookId: string): Promise<boolean>;
  abstract tenants(): Promise<string[]>;

  /** Takes (or renews) the webhook's delivery lease for `token`; false when another holds it. */
  abstract lease(tenant: string, webhookId: string, token: string, ttlMs: number): Promise<boolean>;
  abstract release(tenant: string, webhookId: string, token: string): Promise<void>;
  abstract cursor(tenant: string, webhookId: string): Promise<string | null>;
  abstract retry(tenant: string, webhookId: string): Promise<WebhookRetry | null>;
  /** Records a failed attempt (fenced). */
  abstract recordRetry(
    tenant: string,
    webhookId: string,
    token: string,
    retry: WebhookRetry,
  ): Promise<boolean>;
  /** Moves the cursor past an event, parking it first when given (fenced); clears the retry. */
  abstract advance(
    tenant: string,
    webhookId: string,
    token: string,
    eventId: string,
    parked?: ParkedDelivery,
  ): Promise<boolean>;

  abstract parked(tenant: string, webhookId: string, limit: number): Promise<ParkedDelivery[]>;
  abstract parkedOne(
    tenant: string,
    webhookId: string,
    deliveryId: string,
  ): Promise<ParkedDelivery | null>;
  abstract queueRedelivery(tenant: string, webhookId: string, deliveryId: string): Promise<void>;
  abstract nextRedelivery(tenant: string, webhookId: string): Promise<string | null>;
  /** After a redelivery: removes the parked entry (delivered) or updates it (failed again). */
  abstract settleRedelivery(
    tenant: string,
    webhookId: string,
    token: string,
    deliveryId: string,
    failed?: ParkedDelivery,
  ): Promise<boolean>;
}
