import Redis from 'ioredis';
import { RedisCluster } from '../support/redis-cluster';
import { startTestApp, type TestApp } from '../support/test-app';

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
});
