import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { register } from 'prom-client';
import { eventually } from '../support/eventually';
import { RedisCluster } from '../support/redis-cluster';
import { startTestApp, type TestApp } from '../support/test-app';

// cluster-key-slot (a dependency of ioredis) ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const calculateSlot = require('cluster-key-slot') as (key: string) => number;

async function calls(server: Redis, command: string): Promise<number> {
  const info = await server.info('commandstats');
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

/**
 * Cluster of 3 masters with a replica each: WAIT reaches the master that applied the write (it
 * rides in the script's pipeline, routed by the script's key), and replica reads reach a replica.
 */
describe('replica acknowledgements and replica reads on Redis Cluster', () => {
  let cluster: RedisCluster;
  let t: TestApp;
  let nodes: Redis[];

  beforeAll(async () => {
    cluster = await RedisCluster.start(6, 1);
    t = await startTestApp(cluster.url, {
      REDIS_MIN_REPLICAS_ACK: '1',
      REDIS_READ_FROM: 'replica',
    });
    nodes = cluster.ports.map((port) => new Redis(port, '127.0.0.1'));
  }, 90_000);

  afterAll(async () => {
    for (const node of nodes ?? []) node.disconnect();
    await t?.close();
    cluster?.dispose();
  });

  it('sends WAIT to the master owning the key, and reads to its replica', async () => {
    const before = await Promise.all(nodes.map((node) => calls(node, 'wait')));
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: { a: 1 }, created_by: 'u' })
      .expect(201);
    const after = await Promise.all(nodes.map((node) => calls(node, 'wait')));
    const waited = nodes.filter((_, i) => after[i] > before[i]);
    expect(waited).toHaveLength(1);

    const key = `${t.config.redis.keyPrefix}:{default}:session:${created.body.session_id as string}`;
    // The node that waited holds the key as a master (any other master answers MOVED).
    expect(await waited[0].exists(key)).toBe(1);
    expect((await waited[0].info('replication')).includes('role:master')).toBe(true);

    // Reads follow the client's slot map, which learns of new replicas by its periodic refresh:
    // within a few seconds of start-up every read of the slot is served by its replica.
    const isReplica = await Promise.all(
      nodes.map(async (node) => (await node.info('replication')).includes('role:slave')),
    );
    const replicaReads = async () =>
      (await Promise.all(nodes.map((node) => calls(node, 'hgetall')))).filter(
        (_, i) => isReplica[i],
      );
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    let servedByReplica = false;
    for (let i = 0; i < 40 && !servedByReplica; i++) {
      const before = sum(await replicaReads());
      await t.http.get(`/api/v1/sessions/${created.body.session_id as string}`).expect(200);
      servedByReplica = sum(await replicaReads()) > before;
      if (!servedByReplica) await new Promise((r) => setTimeout(r, 250));
    }
    expect(servedByReplica).toBe(true);
  }, 60_000);
  /** Reads meant for a replica that a master served instead. */
  async function fallbackReads(): Promise<number> {
    const metric = register.getSingleMetric('masa_redis_replica_fallback_reads_total');
    return (await metric?.get())?.values[0]?.value ?? 0;
  }

  it('moves only the slots of a stopped replica to their master, and back when it resumes', async () => {
    const node = (port: number) => nodes[cluster.ports.indexOf(port)];
    // Two tenants whose slots live on different masters: one replica is stopped, the other not.
    const masters: number[] = [];
    const tenants: string[] = [];
    for (let i = 0; tenants.length < 2; i++) {
      const master = await cluster.ownerOf(calculateSlot(`tenant-${i}`));
      if (masters.includes(master)) continue;
      masters.push(master);
      tenants.push(`tenant-${i}`);
    }
    const replicas = await Promise.all(masters.map((master) => cluster.replicaOf(master)));
    const ids: string[] = [];
    for (const tenant of tenants) {
      const created = await t
        .as({ sub: 'orchestrator-1', roles: ['orchestrator'], tenant })
        .post('/api/v1/sessions')
        .send({ session_config: { a: 1 }, created_by: 'u' })
        .expect(201);
      ids.push(created.body.session_id as string);
    }
    /** Reads session `i` once; true when `port` served it (its HGETALL count went up). */
    const readOn = async (i: number, port: number): Promise<boolean> => {
      const before = await calls(node(port), 'hgetall');
      await t
        .as({ sub: 'orchestrator-1', roles: ['orchestrator'], tenant: tenants[i] })
        .get(`/api/v1/sessions/${ids[i]}`)
        .expect(200);
      return (await calls(node(port), 'hgetall')) > before;
    };
    for (const i of [0, 1]) {
      await eventually(async () => expect(await readOn(i, replicas[i])).toBe(true), 15_000);
    }

    const logLines: string[] = [];
    const loggedAt = new Map<string, number>();
    const record = (message: unknown) => {
      logLines.push(String(message));
      loggedAt.set(String(message), Date.now());
    };
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(record);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(record);
    const logged = (text: string) => logLines.filter((line) => line.includes(text)).length;
    const stopped = `127.0.0.1:${replicas[0]}`;
    const fallbacksBefore = await fallbackReads();
    cluster.signal(replicas[0], 'SIGSTOP');
    const stoppedAt = Date.now();
    let movedAfterMs: number;
    let firstReadMs: number;
    try {
      // The first read goes to the frozen replica: past REDIS_REPLICA_READ_TIMEOUT_MS (500 ms)
      // the master answers it, well before the 2 s command timeout it used to wait.
      let started = Date.now();
      expect(await readOn(0, masters[0])).toBe(true);
      firstReadMs = Date.now() - started;
      expect(firstReadMs).toBeLessThan(1_000);
      // That read left the replica it went to at once, before any probe could time out on it
      // (500 ms): the next read goes straight to the master.
      started = Date.now();
      expect(await readOn(0, masters[0])).toBe(true);
      expect(Date.now() - started).toBeLessThan(250);
      movedAfterMs = Date.now() - stoppedAt;
      // The other master's slots stay on their replica, read after read, over several probes.
      for (let k = 0; k < 5 || Date.now() - stoppedAt < 5_000; k++) {
        expect(await readOn(1, replicas[1])).toBe(true);
        expect(await readOn(0, masters[0])).toBe(true);
      }
      expect(await fallbackReads()).toBeGreaterThanOrEqual(fallbacksBefore + 5);
    } finally {
      cluster.signal(replicas[0], 'SIGCONT');
    }
    const resumedAt = Date.now();
    await eventually(async () => expect(await readOn(0, replicas[0])).toBe(true), 15_000);
    const backAfterMs = Date.now() - resumedAt;
    expect(await readOn(1, replicas[1])).toBe(true);
    warn.mockRestore();
    log.mockRestore();
    const switchedAt = (text: string) =>
      [...loggedAt].find(([line]) => line.includes(text))?.[1] ?? Number.NaN;
    process.stdout.write(
      `stopped replica ${stopped}: fallback logged ${switchedAt('fall back') - stoppedAt} ms ` +
        `after SIGSTOP, first read answered in ${firstReadMs} ms, a quick read from the master ` +
        `after ${movedAfterMs} ms; return logged ` +
        `${switchedAt('back on replica') - resumedAt} ms after SIGCONT, first read from the ` +
        `replica after ${backAfterMs} ms\n`,
    );

    // Logged once each way, for the stopped replica only.
    expect(logLines.filter((l) => l.includes('fall back'))).toEqual([
      expect.stringContaining(`replica reads of replica ${stopped} fall back to its master`),
    ]);
    expect(logged(`back on replica ${stopped}`)).toBe(1);
    // The first read's deadline (500 ms), or a probe timing out, whichever came first.
    expect(switchedAt('fall back') - stoppedAt).toBeLessThan(1_000);
    expect(movedAfterMs).toBeLessThan(1_500);
  }, 90_000);
});
