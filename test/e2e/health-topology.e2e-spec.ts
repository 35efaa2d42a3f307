import { RedisCluster } from '../support/redis-cluster';
import { RedisSentinelGroup, SENTINEL_MASTER } from '../support/redis-sentinel';
import { startTestApp, type TestApp } from '../support/test-app';

const analyst = { sub: 'analyst-1', roles: ['analyst'] };

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 50 && !accept(value); i++) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

describe('Detailed health behind Redis Sentinel', () => {
  let group: RedisSentinelGroup;
  let t: TestApp;

  beforeAll(async () => {
    group = await RedisSentinelGroup.start();
    t = await startTestApp(group.url);
  });

  afterAll(async () => {
    await t.close();
    group.dispose();
  });

  it('reports the Sentinel topology, and turns degraded when the replica is missing', async () => {
    // A PING slower than 100 ms on a loaded machine is degraded too: wait for a normal one.
    const healthy = {
      body: await eventually(
        async () => (await t.as(analyst).get('/api/v1/health/detailed').expect(200)).body,
        (body) => body.status === 'healthy',
      ),
    };
    expect(healthy.body.status).toBe('healthy');
    expect(healthy.body.components.redis).toMatchObject({
      status: 'healthy',
      role: 'master',
      topology: { mode: 'sentinel', master_name: SENTINEL_MASTER, connected_replicas: 1 },
    });

    group.killReplica();
    const degraded = await eventually(
      async () => (await t.as(analyst).get('/api/v1/health/detailed')).body,
      (body) => body.status === 'degraded',
    );
    expect(degraded.status).toBe('degraded');
    expect(degraded.components.redis.topology.connected_replicas).toBe(0);
    expect(degraded.components.redis.issues).toEqual([
      expect.stringMatching(/no replica is connected/),
    ]);
    // Degraded is still ready: the primary serves.
    await t.anonymous.get('/api/v1/health/ready').expect(200);
  });
});

describe('Detailed health on Redis Cluster', () => {
  let cluster: RedisCluster;
  let t: TestApp;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    t = await startTestApp(cluster.url);
  });

  afterAll(async () => {
    await t.close();
    cluster.dispose();
  });

  it('reports the cluster state and its nodes, summing memory and clients over the masters', async () => {
    const body = await eventually(
      async () => (await t.as(analyst).get('/api/v1/health/detailed').expect(200)).body,
      (report) => report.status === 'healthy',
    );
    expect(body.status).toBe('healthy');
    expect(body.components.redis).toMatchObject({
      status: 'healthy',
      role: 'master',
      topology: {
        mode: 'cluster',
        cluster_state: 'ok',
        masters: 3,
        replicas: 0,
        failing_nodes: 0,
        connected_replicas: 0,
      },
      issues: [],
    });
    expect(body.components.redis.used_memory_bytes).toBeGreaterThan(0);
    expect(body.components.redis.connected_clients).toBeGreaterThanOrEqual(3);
  });
});
