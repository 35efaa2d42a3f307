import Redis from 'ioredis';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { MemoryKeyspace } from '@app/redis/keys/memory-keyspace';
import { GAUGE_MAX_AGE_MS, StoreGauges } from '../../apps/api/src/metrics/store-gauges';
import { eventually, responsesSettled } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The plan's "Core Performance Metrics" (system-api-plan.md §1.1) and issue 9's list, each mapped
 * to the family that exports it. Removing or renaming one fails the first test.
 */
const PLAN_FAMILIES: Record<string, [name: string, type: string]> = {
  request_duration_seconds: ['masa_http_request_duration_seconds', 'histogram'],
  requests_total: ['masa_http_requests_total', 'counter'],
  concurrent_requests: ['masa_http_requests_in_flight', 'gauge'],
  request_size_bytes: ['masa_http_request_size_bytes', 'histogram'],
  response_size_bytes: ['masa_http_response_size_bytes', 'histogram'],
  crud_operations_total: ['masa_crud_operations_total', 'counter'],
  crud_operation_duration_seconds: ['masa_crud_operation_duration_seconds', 'histogram'],
  crud_operation_errors_total: ['masa_crud_operation_errors_total', 'counter'],
  crud_batch_size: ['masa_crud_batch_size', 'histogram'],
  redis_operations_total: ['masa_redis_commands_total', 'counter'],
  redis_operation_duration_seconds: ['masa_redis_command_duration_seconds', 'histogram'],
  'redis_connection_pool_active/idle': ['masa_redis_connections', 'gauge'],
  redis_memory_usage_bytes: ['masa_redis_memory_used_bytes', 'gauge'],
  'redis memory max (issue)': ['masa_redis_memory_max_bytes', 'gauge'],
  sessions_created_total: ['masa_sessions_created_total', 'counter'],
  sessions_active: ['masa_sessions_active', 'gauge'],
  session_duration_seconds: ['masa_session_duration_seconds', 'histogram'],
  sessions_by_status: ['masa_sessions_by_status', 'gauge'],
  agent_memory_records_total: ['masa_agent_memory_records', 'gauge'],
  memory_storage_bytes: ['masa_agent_memory_stored_bytes', 'gauge'],
  memory_retrieval_frequency: ['masa_agent_memory_retrievals_total', 'counter'],
  cache_hit_ratio: ['masa_cache_hit_ratio', 'gauge'],
  cache_operations_total: ['masa_cache_operations_total', 'counter'],
  cache_memory_usage_bytes: ['masa_cache_stored_bytes', 'gauge'],
  cache_evictions_total: ['masa_cache_evictions_total', 'counter'],
  'redis evictions (issue)': ['masa_redis_evicted_keys', 'gauge'],
  'audit write failures (issue)': ['masa_audit_write_failures_total', 'counter'],
  'node process metrics (issue)': ['masa_process_cpu_seconds_total', 'counter'],
};

/** Sum of every sample of `family` whose labels contain all of `labels` (e.g. `outcome="failed"`). */
function total(text: string, family: string, ...labels: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${family}{`) && !line.startsWith(`${family} `)) continue;
    if (labels.every((label) => line.includes(label)))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('GET /metrics exports the plan metrics with the values of known traffic', () => {
  let redis: RedisServer;
  let t: TestApp;
  let direct: Redis;
  let keys: RedisKeyBuilder;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url, { CACHE_SWEEP_INTERVAL_MS: '200' });
    direct = new Redis(redis.url);
    keys = new RedisKeyBuilder(t.config.redis.keyPrefix);
  });

  afterAll(async () => {
    direct.disconnect();
    await t.close();
    await redis.dispose();
  });

  /** What MEMORY USAGE says of these keys, summed: the truth the estimates are held to. */
  const usage = async (names: string[]) => {
    let bytes = 0;
    for (const name of names) bytes += Number(await direct.memory('USAGE', name));
    return bytes;
  };

  /** A scrape with the store gauges read afresh (they are otherwise up to 5 s old). */
  const scrape = async () => {
    await responsesSettled();
    await t.app.get(StoreGauges).refresh(Date.now() + GAUGE_MAX_AGE_MS);
    return (await t.anonymous.get('/metrics').expect(200)).text;
  };

  it('exports a family for every metric of the plan, with its type', async () => {
    const text = await scrape();
    const missing = Object.entries(PLAN_FAMILIES)
      .filter(([, [name, type]]) => !text.includes(`\n# TYPE ${name} ${type}\n`))
      .map(([plan, [name]]) => `${plan} → ${name}`);
    expect(missing).toEqual([]);
  });

  it('observes session_duration_seconds once per session that ends or is deleted unended', async () => {
    const before = await scrape();
    const create = async () =>
      (
        await t.http
          .post('/api/v1/sessions')
          .send({ session_config: {}, created_by: 'u', status: 'running' })
          .expect(201)
      ).body.session_id as string;
    const [a, b, c, d, e] = await Promise.all([create(), create(), create(), create(), create()]);
    const started = Date.now();
    await t.http.put(`/api/v1/sessions/${a}/status`).send({ status: 'completed' }).expect(200);
    await t.http
      .put(`/api/v1/sessions/${b}`)
      .send({ updates: { status: 'completed' } })
      .expect(200);
    await t.http
      .patch(`/api/v1/sessions/${c}`)
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({ status: 'failed' }))
      .expect(200);
    // Neither ends a session again: already ended, or not an ended status.
    await t.http.put(`/api/v1/sessions/${a}/status`).send({ status: 'failed' }).expect(200);
    await t.http.put(`/api/v1/sessions/${d}/status`).send({ status: 'paused' }).expect(200);
    await t.http.delete(`/api/v1/sessions/${a}`).expect(200); // ended already: not observed
    await t.http.delete(`/api/v1/sessions/${d}`).expect(200); // deleted unended: observed
    await t.http
      .post('/api/v1/sessions/batch-delete')
      .send({ session_ids: [e] })
      .expect(200);
    const elapsed = (Date.now() - started) / 1000;

    const after = await scrape();
    const count = (text: string, outcome: string) =>
      total(text, 'masa_session_duration_seconds_count', `outcome="${outcome}"`);
    expect(count(after, 'completed') - count(before, 'completed')).toBe(2);
    expect(count(after, 'failed') - count(before, 'failed')).toBe(1);
    expect(count(after, 'deleted') - count(before, 'deleted')).toBe(2);
    expect(total(after, 'masa_session_duration_seconds_count', 'outcome="paused"')).toBe(0);
    const seconds =
      total(after, 'masa_session_duration_seconds_sum') -
      total(before, 'masa_session_duration_seconds_sum');
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(5 * (elapsed + 1));
    // The session gauges follow: b and c remain, both ended.
    expect(total(after, 'masa_sessions_by_status', 'status="completed"')).toBe(1);
    expect(total(after, 'masa_sessions_by_status', 'status="failed"')).toBe(1);
    expect(total(after, 'masa_sessions_active')).toBe(0);
  });

  it('counts memory records and retrievals, and estimates their stored bytes', async () => {
    const session = (
      await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201)
    ).body.session_id as string;
    const before = await scrape();
    const agents = ['planner', 'critic', 'writer'];
    for (const agent of agents) {
      await t.http
        .post(`/api/v1/agents/${agent}/memory`)
        .send({
          session_id: session,
          memory_type: 'working',
          memory_data: { notes: 'x'.repeat(2000), agent },
        })
        .expect(201);
    }
    await t.http.get(`/api/v1/agents/planner/memory/${session}`).expect(200);
    await t.http.get(`/api/v1/agents/critic/memory/${session}`).expect(200);
    await t.http.get('/api/v1/agents/planner/memory').expect(200);

    const written = await scrape();
    const retrievals = (text: string, operation: string) =>
      total(text, 'masa_agent_memory_retrievals_total', `operation="${operation}"`);
    expect(retrievals(written, 'get') - retrievals(before, 'get')).toBe(2);
    expect(retrievals(written, 'listByAgent') - retrievals(before, 'listByAgent')).toBe(1);
    expect(total(written, 'masa_agent_memory_records')).toBe(3);
    // Five records are sampled per tenant: with three, the estimate is the exact sum of their
    // record, data and size hashes.
    const space = keys.memory('default');
    const recordKeys = agents.flatMap((agent) => {
      const member = MemoryKeyspace.member(agent, session);
      return [space.recordPrefix, space.dataPrefix, space.sizePrefix].map((p) => p + member);
    });
    const stored = total(written, 'masa_agent_memory_stored_bytes');
    expect(stored).toBe(await usage(recordKeys));
    expect(stored).toBeGreaterThan(3 * 500);
    expect(total(written, 'masa_store_tenants_sampled')).toBe(1);

    await t.http.delete(`/api/v1/agents/writer/memory/${session}`).expect(200);
    const fewer = await scrape();
    expect(total(fewer, 'masa_agent_memory_records')).toBe(2);
    expect(total(fewer, 'masa_agent_memory_stored_bytes')).toBeLessThan(
      total(written, 'masa_agent_memory_stored_bytes'),
    );
    await t.http.delete(`/api/v1/sessions/${session}`).expect(200); // cascades to its memory
    const none = await scrape();
    expect(total(none, 'masa_agent_memory_records')).toBe(0);
    expect(total(none, 'masa_agent_memory_stored_bytes')).toBe(0);
  });

  it('reports cache hits, misses, stored bytes and expired entries removed', async () => {
    const before = await scrape();
    for (const key of ['big-1', 'big-2']) {
      await t.http
        .post(`/api/v1/cache/${key}`)
        .send({ data: { blob: 'y'.repeat(5000) } })
        .expect(201);
    }
    await t.http.get('/api/v1/cache/big-1').expect(200);
    await t.http.get('/api/v1/cache/nope').expect(404);
    const written = await scrape();
    const ops = (text: string, result: string) =>
      total(text, 'masa_cache_operations_total', 'operation="get"', `result="${result}"`);
    expect(ops(written, 'hit') - ops(before, 'hit')).toBe(1);
    expect(ops(written, 'miss') - ops(before, 'miss')).toBe(1);
    expect(total(written, 'masa_cache_entries')).toBe(2);
    const bytes = total(written, 'masa_cache_stored_bytes');
    const cache = keys.cache('default');
    expect(bytes).toBe(await usage([cache.entry('big-1'), cache.entry('big-2')]));
    expect(bytes).toBeGreaterThan(2 * 100);

    await t.http.delete('/api/v1/cache/big-1').expect(200);
    const fewer = await scrape();
    expect(total(fewer, 'masa_cache_entries')).toBe(1);
    expect(total(fewer, 'masa_cache_stored_bytes')).toBeLessThan(bytes);

    // An entry that expires is removed by the sweeper (every 200 ms here) and counted.
    const evicted = total(fewer, 'masa_cache_evictions_total');
    await t.http.post('/api/v1/cache/short-lived').send({ data: 1, ttl_seconds: 1 }).expect(201);
    await eventually(async () => {
      expect(total(await scrape(), 'masa_cache_evictions_total') - evicted).toBe(1);
    }, 5000);
  });

  it('counts a failed repository call by operation, entity and error class', async () => {
    const id = (
      await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201)
    ).body.session_id as string;
    const errors = (text: string) =>
      total(
        text,
        'masa_crud_operation_errors_total',
        'operation="get"',
        'entity="session"',
        'error_type="PayloadDecodeError"',
      );
    const before = await scrape();
    // A stored payload nobody can decode: the repository's get fails.
    await direct.hset(keys.sessions('default').record(id), 'config', 'not-a-payload');
    const failed = await t.http.get(`/api/v1/sessions/${id}`);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(errors(await scrape()) - errors(before)).toBe(1);
  });

  it('reports the Redis connection of each client and INFO of the primary', async () => {
    const text = await scrape();
    expect(total(text, 'masa_redis_connections', 'client="main"', 'state="ready"')).toBe(1);
    expect(total(text, 'masa_redis_connections', 'client="main"', 'state="connecting"')).toBe(0);
    const node = `node="127.0.0.1:${new URL(redis.url).port}"`;
    expect(total(text, 'masa_redis_memory_used_bytes', node)).toBeGreaterThan(0);
    expect(text).toContain(`masa_redis_memory_max_bytes{${node}} 0`);
    expect(text).toContain(`masa_redis_evicted_keys{${node}} 0`);
    expect(text).toContain('masa_audit_write_failures_total 0');
  });
});
