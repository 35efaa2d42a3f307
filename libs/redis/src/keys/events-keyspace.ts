/**
 * Key names for one tenant's change feed. The stream shares the tenant's hash tag, so a change and
 * its event are written by one script on Redis Cluster too.
 *
 * ```
 * <tenant prefix>events   STREAM  one entry per change: t (type), rt (resource type),
 *                                 rid (resource id), v (version or ''), a (actor)
 * ```
 */
export class EventsKeyspace {
  readonly stream: string;

  constructor(readonly tenantPrefix: string) {
    this.stream = `${tenantPrefix}events`;
  }
}
