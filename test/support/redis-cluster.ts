import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import Redis from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server';

interface ClusterNode {
  port: number;
  busPort: number;
  process: ChildProcess;
}

/**
 * A three-master Redis Cluster on loopback, built with redis-server and `redis-cli --cluster
 * create`, for proving that every script keeps to its tenant's slot.
 */
export class RedisCluster {
  private constructor(
    private readonly nodes: ClusterNode[],
    private readonly dir: string,
    private readonly extraArgs: string[],
  ) {}

  get url(): string {
    return `redis-cluster://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  /** Every node's port (masters and replicas). */
  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  /**
   * `size` nodes; with `replicasPerMaster` 1, half of them replicate the other half.
   * `nodeTimeoutMs` is `cluster-node-timeout` (Redis' default 15 s when not given): how long a
   * silent master goes unanswered before the cluster fails it over by itself.
   */
  static async start(
    size = 3,
    replicasPerMaster = 0,
    options: { nodeTimeoutMs?: number } = {},
  ): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'masa-cluster-'));
    const extraArgs =
      options.nodeTimeoutMs === undefined
        ? []
        : ['--cluster-node-timeout', String(options.nodeTimeoutMs)];
    const nodes: ClusterNode[] = [];
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      const busPort = await freePort();
      nodes.push({ port, busPort, process: launch(port, busPort, dir, extraArgs) });
    }
    const cluster = new RedisCluster(nodes, dir, extraArgs);
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

  /** The port of the master serving `slot`. */
  async ownerOf(slot: number): Promise<number> {
    const admin = new Redis(this.nodes[0].port, { lazyConnect: true });
    try {
      const ranges = (await admin.cluster('SLOTS')) as unknown as [
        number,
        number,
        [string, number],
      ][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`slot ${slot} has no owner`);
      return range[2][1];
    } finally {
      admin.disconnect();
    }
  }

  /** Any master that does not serve `slot`: where a move can take it. */
  otherThan(port: number): number {
    const other = this.nodes.find((n) => n.port !== port);
    if (!other) throw new Error('a one-node cluster cannot move slots');
    return other.port;
  }

  /**
   * Moves one slot between masters the way `redis-cli --cluster reshard` does, while clients keep
   * working: IMPORTING on the target, MIGRATING on the source, MIGRATE of `batch` keys at a time
   * (pausing `pauseMs` between batches, so the slot stays half-moved long enough for requests to
   * land in the middle), then SETSLOT NODE on every master. Returns how many keys moved.
   */
  async moveSlot(
    slot: number,
    toPort: number,
    options: { batch?: number; pauseMs?: number } = {},
  ): Promise<number> {
    const batch = options.batch ?? 5;
    const fromPort = await this.ownerOf(slot);
    if (fromPort === toPort) return 0;
    const clients = new Map(this.nodes.map((n) => [n.port, new Redis(n.port)]));
    const node = (port: number) => clients.get(port) as Redis;
    try {
      const fromId = await node(fromPort).cluster('MYID');
      const toId = await node(toPort).cluster('MYID');
      await node(toPort).cluster('SETSLOT', slot, 'IMPORTING', fromId);
      await node(fromPort).cluster('SETSLOT', slot, 'MIGRATING', toId);
      let moved = 0;
      for (;;) {
        const keys = await node(fromPort).cluster('GETKEYSINSLOT', slot, batch);
        if (keys.length === 0) break;
        await node(fromPort).migrate('127.0.0.1', toPort, '', 0, 5000, 'KEYS', ...keys);
        moved += keys.length;
        if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
      }
      await node(toPort).cluster('SETSLOT', slot, 'NODE', toId);
      await node(fromPort).cluster('SETSLOT', slot, 'NODE', toId);
      for (const n of this.nodes) {
        if (n.port !== toPort && n.port !== fromPort) {
          await node(n.port).cluster('SETSLOT', slot, 'NODE', toId);
        }
      }
      return moved;
    } finally {
      for (const client of clients.values()) client.disconnect();
    }
  }

  /** The port of the replica of the master on `masterPort` (one replica per master assumed). */
  async replicaOf(masterPort: number): Promise<number> {
    const admin = new Redis(masterPort, '127.0.0.1', { lazyConnect: true });
    try {
      const info = await admin.info('replication');
      const match = /^slave0:ip=[^,]+,port=(\d+)/m.exec(info);
      if (!match) throw new Error(`master ${masterPort} has no replica`);
      return Number(match[1]);
    } finally {
      admin.disconnect();
    }
  }

  /**
   * Sends a signal to one node's process: SIGSTOP freezes it (its sockets stay open, so nobody
   * notices at once), SIGCONT resumes it, SIGKILL is a crash.
   */
  signal(port: number, signal: NodeJS.Signals): void {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on ${port}`);
    node.process.kill(signal);
  }

  /**
   * Starts a killed node again on its port with its nodes.conf (no data: nothing is persisted). A
   * master that was failed over rejoins as a replica of the node that took its slots.
   */
  restart(port: number): void {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on ${port}`);
    node.process.kill('SIGKILL');
    node.process = launch(port, node.busPort, this.dir, this.extraArgs);
  }

  dispose(): void {
    for (const node of this.nodes) {
      node.process.kill('SIGCONT');
      node.process.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** 30 s: on a loaded 2-core CI machine gossip and replica syncs took over the 10 s it once was. */
  private async waitFor(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('Redis Cluster did not come up');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * `busPort` is the node's cluster bus port, chosen free like `port`: Redis' default, port + 10,000,
 * is past 65,535 for a quarter of the ephemeral range (the node exits at start) or may be taken.
 */
function launch(port: number, busPort: number, dir: string, extraArgs: string[]): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
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
      ...extraArgs,
    ],
    { stdio: 'ignore' },
  );
}

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
}
