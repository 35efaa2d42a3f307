import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server';

/**
 * A three-master Redis Cluster on loopback, built with redis-server and `redis-cli --cluster
 * create`, for proving that every script keeps to its tenant's slot.
 */
export class RedisCluster {
  private constructor(
    private readonly nodes: { port: number; process: ChildProcess }[],
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis-cluster://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  /** Every node's port (masters and replicas). */
  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  /** `size` nodes; with `replicasPerMaster` 1, half of them replicate the other half. */
  static async start(size = 3, replicasPerMaster = 0): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'masa-cluster-'));
    const nodes: { port: number; process: ChildProcess }[] = [];
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      );
      nodes.push({ port, process: child });
    }
    const cluster = new RedisCluster(nodes, dir);
    await cluster.waitFor(() => nodes.every((n) => cli(n.port, 'PING') === 'PONG'));
    const created = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes',
      ],
      { encoding: 'utf8' },
    );
    if (created.status !== 0)
      throw new Error(`cluster create failed: ${created.stdout}${created.stderr}`);
    await cluster.waitFor(() =>
      nodes.every((n) => cli(n.port, 'CLUSTER', 'INFO').includes('cluster_state:ok')),
    );
    await cluster.waitFor(() =>
      nodes.every((n) => {
        const info = cli(n.port, 'INFO', 'replication');
        return info.includes('role:master') || info.includes('master_link_status:up');
      }),
    );
    // Every node must know every replica before a client reads its slot map (gossip takes a moment).
    const replicaCount = size - size / (1 + replicasPerMaster);
    await cluster.waitFor(() =>
      nodes.every(
        (n) => (cli(n.port, 'CLUSTER', 'NODES').match(/\bslave\b/g) ?? []).length === replicaCount,
      ),
    );
    return cluster;
  }

  dispose(): void {
    for (const node of this.nodes) node.process.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitFor(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (condition()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('Redis Cluster did not come up');
  }
}

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
}
