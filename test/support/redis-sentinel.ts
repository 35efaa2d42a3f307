import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server';

export const SENTINEL_MASTER = 'masa-primary';

/**
 * A primary, a replica and one Sentinel on loopback: enough to prove the API follows a failover.
 * Quorum 1 and a one-second down-after keep failover quick for tests.
 */
export class RedisSentinelGroup {
  private constructor(
    private readonly dir: string,
    readonly primaryPort: number,
    readonly replicaPort: number,
    readonly sentinelPort: number,
    private readonly processes: Map<string, ChildProcess>,
  ) {}

  get url(): string {
    return `redis-sentinel://127.0.0.1:${this.sentinelPort}/${SENTINEL_MASTER}`;
  }

  static async start(): Promise<RedisSentinelGroup> {
    const dir = mkdtempSync(join(tmpdir(), 'masa-sentinel-'));
    const [primaryPort, replicaPort, sentinelPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const processes = new Map<string, ChildProcess>();
    const server = (name: string, args: string[]) => {
      const child = spawn('redis-server', args, { stdio: 'ignore' });
      processes.set(name, child);
    };
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    server('primary', ['--port', String(primaryPort), ...common]);
    server('replica', [
      '--port',
      String(replicaPort),
      ...common,
      '--replicaof',
      '127.0.0.1',
      String(primaryPort),
    ]);
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${primaryPort} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 5000`,
        '',
      ].join('\n'),
    );
    server('sentinel', [config, '--sentinel']);
    const group = new RedisSentinelGroup(dir, primaryPort, replicaPort, sentinelPort, processes);
    await group.until(async () =>
      (await reply(replicaPort, 'INFO replication')).includes('master_link_status:up'),
    );
    await group.until(async () =>
      (await reply(sentinelPort, `SENTINEL replicas ${SENTINEL_MASTER}`)).includes(
        String(replicaPort),
      ),
    );
    return group;
  }

  /** Kills the primary as a crash would. */
  killPrimary(): void {
    this.processes.get('primary')?.kill('SIGKILL');
  }

  /** Kills the replica; the primary notices once the replication link drops. */
  killReplica(): void {
    this.processes.get('replica')?.kill('SIGKILL');
  }

  /**
   * Freezes the replica (SIGSTOP): its connection stays open, so the primary still counts it, but
   * it confirms nothing, and a WAIT times out. resumeReplica() lets it catch up.
   */
  pauseReplica(): void {
    this.processes.get('replica')?.kill('SIGSTOP');
  }

  resumeReplica(): void {
    this.processes.get('replica')?.kill('SIGCONT');
  }

  /**
   * A failover ordered by the operator (SENTINEL FAILOVER): the old primary stays up and keeps
   * taking writes until Sentinel reconfigures it as a replica of the promoted one.
   */
  async forceFailover(): Promise<void> {
    const answer = await reply(this.sentinelPort, `SENTINEL FAILOVER ${SENTINEL_MASTER}`);
    if (!answer.startsWith('+OK')) throw new Error(`SENTINEL FAILOVER refused: ${answer}`);
  }

  /** Waits until the old primary replicates from the promoted one (its own late writes gone). */
  async awaitOldPrimaryDemoted(): Promise<void> {
    await this.until(async () => {
      const info = await reply(this.primaryPort, 'INFO replication');
      return info.includes('role:slave') && info.includes('master_link_status:up');
    }, 30_000);
  }

  /** Waits until Sentinel names the replica as the new primary. */
  async awaitFailover(): Promise<void> {
    await this.until(
      async () =>
        (
          await reply(this.sentinelPort, `SENTINEL get-master-addr-by-name ${SENTINEL_MASTER}`)
        ).includes(String(this.replicaPort)),
      30_000,
    );
  }

  dispose(): void {
    for (const child of this.processes.values()) child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await condition().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('Redis Sentinel group did not reach the expected state');
  }
}

/** One inline command over RESP, answered as raw text (enough for substring checks). */
function reply(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let data = '';
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(data);
    });
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      // Replies here are small; a short pause after the first chunk is enough to collect them.
      setTimeout(() => {
        socket.destroy();
        resolve(data);
      }, 30);
    });
  });
}
