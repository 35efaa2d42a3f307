import type { Socket } from 'node:net';
import { RedisProxy, type ProxiedLink } from './redis-proxy';

/**
 * A TCP proxy in front of redis-server that can lose one reply: armed with a marker, it forwards
 * the next request carrying that marker to Redis (so the command runs) and then cuts the client's
 * connection instead of passing the reply back. That is the fault behind "unknown outcome": the
 * write happened, the client never heard of it.
 */
export class ReplyDroppingProxy extends RedisProxy {
  private armedFor?: string;
  private skipMatches = 0;
  /** Client connections whose next reply is to be lost. */
  private readonly cutOnNextReply = new WeakSet<Socket>();
  dropped = 0;

  static start(redisPort: number): Promise<ReplyDroppingProxy> {
    return new ReplyDroppingProxy().listen(redisPort);
  }

  /** The next request whose bytes contain `marker` (after `skip` such requests) runs, and its reply is lost. */
  dropReplyTo(marker: string, skip = 0): void {
    this.armedFor = marker;
    this.skipMatches = skip;
  }

  protected override request(chunk: Buffer, link: ProxiedLink): void {
    if (this.armedFor !== undefined && chunk.includes(this.armedFor)) {
      if (this.skipMatches > 0) {
        this.skipMatches--;
      } else {
        this.armedFor = undefined;
        this.cutOnNextReply.add(link.client);
      }
    }
    super.request(chunk, link);
  }

  protected override reply(chunk: Buffer, link: ProxiedLink): void {
    if (this.cutOnNextReply.has(link.client)) {
      this.dropped++;
      link.cut();
      return;
    }
    super.reply(chunk, link);
  }
}
