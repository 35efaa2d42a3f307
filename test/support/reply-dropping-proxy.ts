import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/**
 * A TCP proxy in front of redis-server that can lose one reply: armed with a marker, it forwards
 * the next request carrying that marker to Redis (so the command runs) and then cuts the client's
 * connection instead of passing the reply back. That is the fault behind "unknown outcome": the
 * write happened, the client never heard of it.
 */
export class ReplyDroppingProxy {
  private armedFor?: string;
  private skipMatches = 0;
  private readonly sockets = new Set<Socket>();
  dropped = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(redisPort: number): Promise<ReplyDroppingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new ReplyDroppingProxy(server, (server.address() as AddressInfo).port);
    server.on('connection', (client) => proxy.connect(client, redisPort));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The next request whose bytes contain `marker` (after `skip` such requests) runs, and its reply is lost. */
  dropReplyTo(marker: string, skip = 0): void {
    this.armedFor = marker;
    this.skipMatches = skip;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private connect(client: Socket, redisPort: number): void {
    const upstream = new Socket();
    this.sockets.add(client).add(upstream);
    let cutOnNextReply = false;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      if (this.armedFor !== undefined && chunk.includes(this.armedFor)) {
        if (this.skipMatches > 0) {
          this.skipMatches--;
        } else {
          this.armedFor = undefined;
          cutOnNextReply = true;
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (cutOnNextReply) {
        this.dropped++;
        cut();
        return;
      }
      client.write(chunk);
    });
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    upstream.connect(redisPort, '127.0.0.1');
  }
}
