import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/**
 * A TCP proxy in front of redis-server whose replies can be held back: one connection that stops
 * answering while Redis itself (and every other connection to it) is fine — a stuck socket, a
 * half-open connection behind a NAT, a hung proxy.
 */
export class StallingProxy {
  private stalled = false;
  private readonly held: [Socket, Buffer][] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(redisPort: number): Promise<StallingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new StallingProxy(server, (server.address() as AddressInfo).port);
    server.on('connection', (client) => proxy.connect(client, redisPort));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Requests still reach Redis; its replies are held until release(). */
  stall(): void {
    this.stalled = true;
  }

  release(): void {
    this.stalled = false;
    for (const [client, chunk] of this.held.splice(0)) client.write(chunk);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private connect(client: Socket, redisPort: number): void {
    const upstream = new Socket();
    this.sockets.add(client).add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (this.stalled) this.held.push([client, chunk]);
      else client.write(chunk);
    });
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    upstream.connect(redisPort, '127.0.0.1');
  }
}
