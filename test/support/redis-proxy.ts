import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/** One client connection through the proxy and its own connection on to Redis. */
export interface ProxiedLink {
  client: Socket;
  upstream: Socket;
  /** Drops both sides, as a network failure would. */
  cut(): void;
}

/**
 * A TCP proxy in front of redis-server for fault tests: bytes pass both ways unchanged unless a
 * subclass intercepts a request or a reply.
 */
export abstract class RedisProxy {
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Listens on a free port, connecting each client to Redis on `redisPort`. */
  protected async listen(redisPort: number): Promise<this> {
    const server = createServer((client) => this.link(client, redisPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  protected request(chunk: Buffer, link: ProxiedLink): void {
    link.upstream.write(chunk);
  }

  protected reply(chunk: Buffer, link: ProxiedLink): void {
    link.client.write(chunk);
  }

  private link(client: Socket, redisPort: number): void {
    const upstream = new Socket();
    this.sockets.add(client).add(upstream);
    const link: ProxiedLink = {
      client,
      upstream,
      cut: () => {
        client.destroy();
        upstream.destroy();
      },
    };
    client.on('data', (chunk: Buffer) => this.request(chunk, link));
    upstream.on('data', (chunk: Buffer) => this.reply(chunk, link));
    client.on('error', link.cut).on('close', link.cut);
    upstream.on('error', link.cut).on('close', link.cut);
    upstream.connect(redisPort, '127.0.0.1');
  }
}
