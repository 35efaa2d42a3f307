import { randomUUID } from 'node:crypto';
import { ConsistencyChecker } from '@app/redis/consistency/consistency-checker';
import { createRedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { GAUGE_MAX_AGE_MS, StoreGauges } from '../../apps/api/src/metrics/store-gauges';
import { RedisCluster } from '../support/redis-cluster';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The whole API on a three-master Redis Cluster. Tenants hash to different slots (and nodes), and
 * every write script derives its index keys in-script: this proves they all stay in the tenant's
 * slot, which Cluster would otherwise refuse.
 */
describe('on Redis Cluster', () => {
  let cluster: RedisCluster;
  let t: TestApp;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    t = await startTestApp(cluster.url);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    cluster?.dispose();
  });

  it.each(['acme', 'globex', 'initech', 'umbrella', 'default'])(
    'runs the session life cycle for tenant %s',
    async (tenant) => {
      const http = t.as({ sub: 'orch-1', roles: ['orchestrator'], tenant });
      const batch = await http
        .post('/api/v1/sessions/batch')
        .send({
          sessions: [1, 2, 3].map((i) => ({
            session_config: { i },
            created_by: 'user:1',
            status: 'queued',
          })),
        })
        .expect(201);
      const [first, second] = batch.body.sessions as { session_id: string }[];

      await http
        .put(`/api/v1/sessions/${first.session_id}/status`)
        .set('If-Match', '"1"')
        .send({ status: 'running', updated_by: 'o' })
        .expect(200);
      const page = await http
        .get('/api/v1/sessions?created_by=user:1&status=queued&limit=1')
        .expect(200);
      expect(page.body.total_count).toBe(2);
      const next = await http
        .get(
          `/api/v1/sessions?created_by=user:1&status=queued&limit=1&cursor=${page.body.next_cursor}`,
        )
        .expect(200);
      expect(next.body.sessions).toHaveLength(1);

      await http.delete(`/api/v1/sessions/${second.session_id}`).expect(200);
      const got = await http
        .post('/api/v1/sessions/batch-get')
        .send({ session_ids: [first.session_id, second.session_id, randomUUID()] })
        .expect(200);
      expect(got.body.sessions.map((s: { status: string }) => s.status)).toEqual(['running']);
      expect(got.body.missing).toHaveLength(2);
    },
  );

  it.each(['acme', 'globex', 'initech'])('runs memory and cache for tenant %s', async (tenant) => {
    const http = t.as({ sub: 'orch-1', roles: ['orchestrator'], tenant });
    const session = await http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'u' })
      .expect(201);
    const sessionId = session.body.session_id as string;
    for (const agent of ['planner', 'critic']) {
      await http
        .post(`/api/v1/agents/${agent}/memory`)
        .send({
          session_id: sessionId,
          memory_data: { a: 1 },
          memory_type: 'shared',
          created_by: 'o',
        })
        .expect(201);
    }
    await http
      .patch(`/api/v1/agents/planner/memory/${sessionId}`)
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({ memory_data: { b: { c: 2 } } }))
      .expect(200);
    expect(
      (await http.get(`/api/v1/memory/sessions/${sessionId}`).expect(200)).body.total_agents,
    ).toBe(2);

    for (let i = 0; i < 30; i++) {
      await http
        .post(`/api/v1/cache/llm:${i}`)
        .send({ data: { i }, tags: [i % 2 ? 'odd' : 'even'] })
        .expect(201);
    }
    const byTag = await http
      .post('/api/v1/cache/invalidate')
      .send({ tags: ['odd'] })
      .expect(200);
    expect(byTag.body.invalidated_count).toBe(15);
    const byPattern = await http
      .post('/api/v1/cache/invalidate')
      .send({ pattern: 'llm:*' })
      .expect(200);
    expect(byPattern.body.invalidated_count).toBe(15);

    const deleted = await http.delete(`/api/v1/sessions/${sessionId}`).expect(200);
    expect(deleted.body.memory_records_deleted).toBe(2);
  });

  it.each(['acme', 'globex', 'initech'])(
    'appends audit records in the tenant slot and verifies the chain for tenant %s',
    async (tenant) => {
      const http = t.as({ sub: 'orch-a', roles: ['orchestrator'], tenant });
      const admin = t.as({ sub: 'admin-a', roles: ['admin'], tenant });
      const created = await http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201);
      const id = created.body.session_id as string;
      await http
        .put(`/api/v1/sessions/${id}`)
        .send({ metadata: { m: 1 } })
        .expect(200);
      await http.post('/api/v1/cache/audited').send({ data: 1 }).expect(201);
      await http.delete(`/api/v1/sessions/${id}`).expect(200);
      await t.anonymous.delete(`/api/v1/sessions/${id}`).expect(401);

      const trail = await admin
        .get('/api/v1/audit')
        .query({ user_id: 'orch-a', limit: '100' })
        .expect(200);
      const records = trail.body.audit_records as {
        operation: string;
        resource_id: string;
        committed_with_change: boolean;
      }[];
      expect(records.filter((r) => r.resource_id === id).map((r) => r.operation)).toEqual([
        'delete',
        'update',
        'create',
      ]);
      expect(records.every((r) => r.committed_with_change)).toBe(true);
      const verify = await admin.get('/api/v1/audit/verify').expect(200);
      expect(verify.body).toMatchObject({ verified: true, first_break: null });
      expect(verify.body.records_checked).toBeGreaterThanOrEqual(4);
    },
  );

  it('exports INFO of every master and connections to every node on /metrics', async () => {
    await t.app.get(StoreGauges).refresh(Date.now() + GAUGE_MAX_AGE_MS);
    const text = (await t.anonymous.get('/metrics').expect(200)).text;
    const used = text
      .split('\n')
      .filter((line) => line.startsWith('masa_redis_memory_used_bytes{'));
    // One series per master, named by its address, each its own figure.
    expect(used.map((line) => /node="([^"]+)"/.exec(line)?.[1]).sort()).toEqual(
      cluster.url.replace('redis-cluster://', '').split(',').sort(),
    );
    for (const line of used) expect(Number(line.split(' ')[1])).toBeGreaterThan(0);
    expect(text.match(/^masa_redis_memory_max_bytes\{node=/gm)).toHaveLength(3);
    expect(text.match(/^masa_redis_evicted_keys\{node=/gm)).toHaveLength(3);
    expect(text).toContain('masa_redis_connections{client="main",state="ready"} 3');
    // Tenants on different masters are counted and sampled alike.
    expect(Number(/^masa_cache_stored_bytes (\S+)/m.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it('leaves every tenant consistent, checked node by node (npm run check:consistency)', async () => {
    const client = createRedisClient({
      url: cluster.url,
      commandTimeoutMs: 5000,
      connectTimeoutMs: 2000,
    });
    try {
      await new Promise((resolve) => client.once('ready', resolve));
      const checker = new ConsistencyChecker(client, new RedisKeyBuilder(t.config.redis.keyPrefix));
      const tenants = await checker.tenants();
      // The tests above wrote to tenants on different slots, hence different masters.
      expect(tenants).toEqual(
        expect.arrayContaining(['acme', 'default', 'globex', 'initech', 'umbrella']),
      );
      const reports = await Promise.all(tenants.map((tenant) => checker.checkTenant(tenant)));
      expect(reports.flatMap((report) => report.violations)).toEqual([]);
      // Five tenants kept two of their three sessions each; memory sessions were deleted.
      expect(reports.reduce((n, report) => n + report.sessions, 0)).toBe(10);
    } finally {
      client.disconnect();
    }
  });
});
