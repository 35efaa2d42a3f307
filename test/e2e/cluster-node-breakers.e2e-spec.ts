import { Logger } from '@nestjs/common';
import { RedisHealthProbe } from '@app/redis';
import { generousLimits, tenantsOverMasters } from '../support/cluster-failover';
import { eventually } from '../support/eventually';
import { RedisCluster } from '../support/redis-cluster';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * On Redis Cluster the API has one circuit breaker per node: a master that hangs (kill -STOP) gets
 * its own slots refused at once, while the tenants of the other masters keep writing; the breaker
 * is logged and exported under the node's address, and readiness stays up (every instance shares
 * the Cluster, so taking instances out of rotation would refuse the healthy slots too).
 * (A crash with the cluster's own failover: test/integration/redis-cluster-master-crash.int-spec.ts.)
 */
describe('Redis Cluster: one circuit breaker per node', () => {
  let cluster: RedisCluster;
  let t: TestApp;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    t = await startTestApp(cluster.url, {
      RATE_LIMITS_CONFIG_PATH: generousLimits(),
      REDIS_COMMAND_TIMEOUT_MS: '300',
      REDIS_BREAKER_FAILURES: '2',
      REDIS_BREAKER_PROBE_INTERVAL_MS: '50',
      REDIS_BREAKER_PROBE_TIMEOUT_MS: '100',
    });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    cluster?.dispose();
  });

  it('refuses only the hung master’s slots, named in logs and metrics; readiness stays up', async () => {
    const byMaster = await tenantsOverMasters(cluster, 1);
    const [[victim, [victimTenant]], ...others] = [...byMaster.entries()];
    const liveTenants = others.map(([, tenants]) => tenants[0]);
    const create = (tenant: string) =>
      t
        .as({ sub: `writer-${tenant}`, roles: ['orchestrator'], tenant })
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' });
    for (const tenant of [victimTenant, ...liveTenants])
      expect((await create(tenant)).status).toBe(201);
    const probe = t.app.get(RedisHealthProbe, { strict: false });
    const node = `127.0.0.1:${victim}`;

    const lines: string[] = [];
    const warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((message: unknown) => void lines.push(String(message)));
    try {
      cluster.signal(victim, 'SIGSTOP');
      for (let i = 0; i < 10 && probe.breakerState !== 'open'; i++) {
        expect((await create(victimTenant)).status).toBe(503);
      }
      expect(probe.breakerState).toBe('open');

      // The other masters' tenants are not refused; the hung one's are, at once.
      for (let i = 0; i < 3; i++) {
        for (const tenant of liveTenants) expect((await create(tenant)).status).toBe(201);
      }
      const started = Date.now();
      const refused = await create(victimTenant);
      expect(Date.now() - started).toBeLessThan(250);
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ store_failure: 'unreachable' });

      const metrics = (await t.anonymous.get('/metrics').expect(200)).text;
      const open = metrics.match(/^masa_redis_breaker_state\{.*\} [12]$/gm);
      expect(open).toEqual([`masa_redis_breaker_state{node="${node}"} 2`]);
      expect(metrics).toContain(
        `masa_redis_breaker_transitions_total{from="closed",to="open",node="${node}"} 1`,
      );
      expect(lines.some((line) => line.startsWith(`circuit breaker (node ${node}) open`))).toBe(
        true,
      );
      const ready = await t.anonymous.get('/api/v1/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.redis).toMatchObject({ status: 'up', breaker: 'open' });

      cluster.signal(victim, 'SIGCONT');
      await eventually(async () => expect((await create(victimTenant)).status).toBe(201), 15_000);
      expect(probe.breakerState).toBe('closed');
      expect((await t.anonymous.get('/metrics').expect(200)).text).toContain(
        `masa_redis_breaker_state{node="${node}"} 0`,
      );
    } finally {
      cluster.signal(victim, 'SIGCONT');
      warn.mockRestore();
    }
  }, 60_000);

  it('fails readiness once every master’s breaker is open', async () => {
    const byMaster = await tenantsOverMasters(cluster, 1);
    const create = (tenant: string) =>
      t
        .as({ sub: `writer-${tenant}`, roles: ['orchestrator'], tenant })
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' });
    const probe = t.app.get(RedisHealthProbe, { strict: false });
    const masters = [...byMaster.keys()];
    try {
      for (const master of masters) cluster.signal(master, 'SIGSTOP');
      // Requests for a tenant of each master time out until that master's breaker opens.
      await eventually(async () => {
        await Promise.all([...byMaster.values()].map(([tenant]) => create(tenant)));
        expect(probe.breakersAllOpen).toBe(true);
      }, 10_000);
      const ready = await t.anonymous.get('/api/v1/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.details.redis).toMatchObject({ status: 'down', breaker: 'open' });
    } finally {
      for (const master of masters) cluster.signal(master, 'SIGCONT');
    }
    await eventually(() => t.anonymous.get('/api/v1/health/ready').expect(200), 15_000);
  }, 60_000);
});
