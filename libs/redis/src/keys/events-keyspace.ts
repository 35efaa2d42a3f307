/**
 * Key names for one tenant's change feed and webhooks. The stream shares the tenant's hash tag, so
 * a change and its event are written by one script on Redis Cluster too.
 *
 * ```
 * <t>events                       STREAM  one entry per change: t (type), rt (resource type),
 *                                         rid (resource id), v (version or ''), a (actor)
 * <t>webhooks                     HASH    webhook id -> JSON (url, event types, encoded secret)
 * <t>webhook:<id>:cursor          STRING  id of the last event delivered, skipped or parked
 * <t>webhook:<id>:lease           STRING  token of the replica delivering (SET NX PX: one at a time)
 * <t>webhook:<id>:retry           HASH    event_id, attempts, next_at, last_error of the event in retry
 * <t>webhook:<id>:dead            HASH    delivery id (= event id) -> JSON of a parked delivery
 * <t>webhook:<id>:dead:order      ZSET    delivery id -> parked_at_ms
 * <t>webhook:<id>:redeliver       LIST    parked delivery ids an admin asked to send again
 * ```
 */
export class EventsKeyspace {
  readonly stream: string;
  readonly webhooks: string;

  constructor(readonly tenantPrefix: string) {
    this.stream = `${tenantPrefix}events`;
    this.webhooks = `${tenantPrefix}webhooks`;
  }

  webhook(webhookId: string): WebhookKeyspace {
    const base = `${this.tenantPrefix}webhook:${webhookId}:`;
    return {
      cursor: `${base}cursor`,
      lease: `${base}lease`,
      retry: `${base}retry`,
      dead: `${base}dead`,
      deadOrder: `${base}dead:order`,
      redeliver: `${base}redeliver`,
    };
  }
}

export interface WebhookKeyspace {
  cursor: string;
  lease: string;
  retry: string;
  dead: string;
  deadOrder: string;
  redeliver: string;
}
