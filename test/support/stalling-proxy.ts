import type { Socket } from 'node:net';
import { RedisProxy, type ProxiedLink } from './redis-proxy';

/**
 * A TCP proxy in front of redis-server whose replies can be held back: one connection that stops
 * answering while Redis itself (and every other connection to it) is fine — a stuck socket, a
 * half-open connection behind a NAT, a hung proxy.
 */
export class StallingProxy extends RedisProxy {
  private stalled = false;
  private readonly held: [Socket, Buffer][] = [];

  static start(redisPort: number): Promise<StallingProxy> {
    return new StallingProxy().listen(redisPort);
  }

  /** Requests still reach Redis; its replies are held until release(). */
  stall(): void {
    this.stalled = true;
  }

  release(): void {
    this.stalled = false;
    for (const [client, chunk] of this.held.splice(0)) client.write(chunk);
  }

  protected override reply(chunk: Buffer, link: ProxiedLink): void {
    if (this.stalled) this.held.push([link.client, chunk]);
    else super.reply(chunk, link);
  }
}
