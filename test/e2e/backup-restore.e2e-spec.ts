import 'reflect-metadata';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import type TestAgent from 'supertest/lib/agent';
import { ConsistencyChecker } from '../../libs/redis/src/consistency/consistency-checker';
import { RedisKeyBuilder } from '../../libs/redis/src/keys/redis-key-builder';
import { RedisServer } from '../support/redis-server';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup, restore } from '../../scripts/backup';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app';

const NDJSON = 'application/x-ndjson';
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

type Line = Record<string, unknown>;

/** Export -> flush -> import through the real app, real Redis, real tokens. */
describe('Backup and restore over HTTP', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;
  const prefix = `bk${process.pid}`;
  const admin = (tenant = 'default'): TestAgent =>
    t.as({ sub: 'admin-1', roles: ['admin'], tenant });
  const orchestrator = (tenant = 'default'): TestAgent =>
    t.as({ sub: 'orch-1', roles: ['orchestrator'], tenant });

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url, {
      ENCRYPTION_KEYS: `k1:${ENCRYPTION_KEY}`,
      REDIS_KEY_PREFIX: prefix,
    });
  });

  afterAll(async () => {
    await t?.close();
    raw?.disconnect();
    await redis?.dispose();
  });

  beforeEach(async () => {
    await raw.flushall();
  });

  async function exportLines(agent: TestAgent, query = ''): Promise<Line[]> {
    const response = await agent
      .get(`/api/v1/admin/export${query}`)
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    expect(response.headers['content-type']).toContain(NDJSON);
    return (response.body as string)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Line);
  }

  function importLines(agent: TestAgent, lines: (Line | string)[], conflict = 'fail') {
    const body = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
    return agent
      .post(`/api/v1/admin/import?conflict=${conflict}`)
      .set('Content-Type', NDJSON)
      .send(`${body}\n`);
  }

  async function seed(agent: TestAgent) {
    const created = await agent
      .post('/api/v1/sessions/batch')
      .send({
        sessions: [
          { session_config: { model: 'a' }, metadata: { team: 'x' }, created_by: 'alice' },
          { session_config: { model: 'b' }, created_by: 'bob', ttl_seconds: 600 },
          { session_config: { model: 'c' }, metadata: { n: 3 }, created_by: 'alice' },
        ],
      })
      .expect(201);
    const ids = (created.body.sessions as { session_id: string }[]).map((s) => s.session_id);
    await agent.put(`/api/v1/sessions/${ids[0]}/status`).send({ status: 'completed' }).expect(200);
    await agent
      .patch(`/api/v1/sessions/${ids[2]}`)
      .set('Content-Type', 'application/merge-patch+json')
      .send({ metadata: { n: 4 } })
      .expect(200);
    for (const [agentId, sessionId, type] of [
      ['planner', ids[0], 'working'],
      ['planner', ids[1], 'persistent'],
      ['coder:1', ids[0], 'shared'],
      ['coder:1', ids[2], 'working'],
    ] as const) {
      await agent
        .post(`/api/v1/agents/${encodeURIComponent(agentId)}/memory`)
        .send({
          session_id: sessionId,
          memory_type: type,
          memory_data: { note: `${agentId}@${sessionId}`, nested: { k: [1, 2] } },
          created_by: 'orch',
        })
        .expect(201);
    }
    await agent
      .patch(`/api/v1/agents/planner/memory/${ids[0]}`)
      .set('Content-Type', 'application/merge-patch+json')
      .send({ memory_data: { extra: true } })
      .expect(200);
    await agent
      .post('/api/v1/cache/llm:answer-1')
      .send({ data: { answer: 42 }, ttl_seconds: 900, tags: ['llm', 'session-a'] })
      .expect(201);
    await agent
      .post('/api/v1/cache/plain')
      .send({ data: 'text value', ttl_seconds: 120 })
      .expect(201);
    return ids;
  }

  /** Everything a client can read about the seeded data (whole bodies, so nothing drifts). */
  async function snapshot(agent: TestAgent, ids: string[]) {
    const sessions = [];
    for (const id of ids)
      sessions.push((await agent.get(`/api/v1/sessions/${id}`).expect(200)).body);
    const memory = [];
    for (const [agentId, id] of [
      ['planner', ids[0]],
      ['planner', ids[1]],
      ['coder:1', ids[0]],
      ['coder:1', ids[2]],
    ]) {
      memory.push(
        (await agent.get(`/api/v1/agents/${encodeURIComponent(agentId)}/memory/${id}`).expect(200))
          .body,
      );
    }
    const lists = {
      all: (await agent.get('/api/v1/sessions?limit=100').expect(200)).body,
      alice: (await agent.get('/api/v1/sessions?created_by=alice').expect(200)).body,
      completed: (await agent.get('/api/v1/sessions?status=completed').expect(200)).body,
      planner: (await agent.get('/api/v1/agents/planner/memory').expect(200)).body,
      shared: (await agent.get(`/api/v1/memory/sessions/${ids[0]}?memory_type=shared`).expect(200))
        .body,
    };
    const cache = (
      await agent
        .post('/api/v1/cache/batch-get')
        .send({ cache_keys: ['llm:answer-1', 'plain'] })
        .expect(200)
    ).body;
    return { sessions, memory, lists, cache };
  }

  /** TTL-derived fields move with the clock: compared separately, within a few seconds. */
  function withoutClock(value: unknown): unknown {
    return JSON.parse(
      JSON.stringify(value, (key, v: unknown) =>
        key === 'ttl_remaining' || key === 'ttl_remaining_seconds' ? undefined : v,
      ),
    ) as unknown;
  }

  async function expectConsistent(tenant = 'default') {
    const report = await new ConsistencyChecker(raw, new RedisKeyBuilder(prefix)).checkTenant(
      tenant,
    );
    expect(report.violations).toEqual([]);
    return report;
  }

  it('restores identical data, versions, created_at and TTLs, with every index rebuilt', async () => {
    const ids = await seed(orchestrator());
    const before = await snapshot(orchestrator(), ids);
    const pttlBefore = await raw.pttl(`${prefix}:{default}:session:${ids[1]}`);
    const lines = await exportLines(admin());
    expect(lines.map((l) => l.type)).toEqual([
      'session',
      'session',
      'session',
      'memory',
      'memory',
      'memory',
      'memory',
      'cache',
      'cache',
    ]);
    const session = lines.find((l) => l.session_id === ids[2] && l.type === 'session')!;
    expect(session).toMatchObject({ version: 2, created_by: 'alice', payload_encoding: 'stored' });
    expect(session.ttl_remaining_ms).toBeGreaterThan(0);

    await raw.flushall();
    await orchestrator().get(`/api/v1/sessions/${ids[0]}`).expect(404);

    const result = await importLines(admin(), lines).expect(200);
    expect(result.body).toEqual({ imported: 9, skipped: 0, failed: 0, errors: [] });

    const after = await snapshot(orchestrator(), ids);
    expect(withoutClock(after)).toEqual(withoutClock(before));
    const pttlAfter = await raw.pttl(`${prefix}:{default}:session:${ids[1]}`);
    expect(Math.abs(pttlAfter - pttlBefore)).toBeLessThan(5000);
    const report = await expectConsistent();
    expect(report).toMatchObject({ sessions: 3, memory_records: 4, cache_entries: 2 });

    // Writes after the restore carry on from the restored versions.
    const updated = await orchestrator()
      .put(`/api/v1/sessions/${ids[2]}/status`)
      .send({ status: 'completed' })
      .expect(200);
    expect(updated.body.version).toBe(3);
  });

  it('keeps ciphertext unless decrypt=true, and audits the decrypting export', async () => {
    const ids = await seed(orchestrator());
    const stored = await exportLines(admin());
    const first = stored.find((l) => l.session_id === ids[0] && l.type === 'session')!;
    expect(typeof first.config).toBe('string');
    expect(first.config).not.toContain('model');
    expect(JSON.stringify(stored)).not.toContain('coder:1@');

    const decrypted = await exportLines(admin(), '?decrypt=true');
    const plain = decrypted.find((l) => l.session_id === ids[0] && l.type === 'session')!;
    expect(plain).toMatchObject({ payload_encoding: 'json', config: { model: 'a' } });

    const audit = await admin().get('/api/v1/audit?operation=export&limit=10').expect(200);
    const records = audit.body.audit_records as Line[];
    expect(records.some((r) => JSON.stringify(r.request_data) === '{"decrypt":"true"}')).toBe(true);

    // A decrypted export imports too (encrypted again with the current key).
    await raw.flushall();
    expect((await importLines(admin(), decrypted).expect(200)).body.imported).toBe(9);
    const restored = await orchestrator().get(`/api/v1/sessions/${ids[0]}`).expect(200);
    expect(restored.body.session_config).toEqual({ model: 'a' });
    const rawConfig = await raw.hget(`${prefix}:{default}:session:${ids[0]}`, 'config');
    expect(rawConfig).not.toContain('model');
    await expectConsistent();
  });

  it('refuses decrypt and both routes to non-admin roles', async () => {
    await exportLines(admin());
    await orchestrator().get('/api/v1/admin/export').expect(403);
    await orchestrator().get('/api/v1/admin/export?decrypt=true').expect(403);
    await importLines(orchestrator(), []).expect(403);
  });

  it('applies conflict=skip, overwrite and fail per record', async () => {
    const ids = await seed(orchestrator());
    const lines = await exportLines(admin());
    await orchestrator()
      .put(`/api/v1/sessions/${ids[1]}/status`)
      .send({ status: 'completed' })
      .expect(200);

    const skipped = await importLines(admin(), lines, 'skip').expect(200);
    expect(skipped.body).toEqual({ imported: 0, skipped: 9, failed: 0, errors: [] });
    expect((await orchestrator().get(`/api/v1/sessions/${ids[1]}`)).body.status).toBe('completed');

    const failed = await importLines(admin(), lines.slice(0, 2), 'fail').expect(200);
    expect(failed.body).toMatchObject({ imported: 0, skipped: 0, failed: 2 });
    expect(failed.body.errors.map((e: { line: number }) => e.line)).toEqual([1, 2]);

    const overwritten = await importLines(admin(), lines, 'overwrite').expect(200);
    expect(overwritten.body).toEqual({ imported: 9, skipped: 0, failed: 0, errors: [] });
    const back = await orchestrator().get(`/api/v1/sessions/${ids[1]}`).expect(200);
    expect(back.body.status).not.toBe('completed');
    const completed = await orchestrator().get('/api/v1/sessions?status=completed').expect(200);
    expect(JSON.stringify(completed.body)).not.toContain(ids[1]);
    await expectConsistent();
  });

  it('reports malformed lines by number and imports the others', async () => {
    await seed(orchestrator());
    const lines = await exportLines(admin());
    await raw.flushall();
    const session = lines[0];
    const mixed: (Line | string)[] = [
      session,
      '{not json',
      { ...lines[1], session_id: 'not-a-uuid' },
      { type: 'spaceship' },
      { ...lines[2], payload_encoding: 'stored', config: 'tampered' },
      '{"type":"session","__proto__":{"polluted":true}}',
      lines[1],
      { ...lines[2], config: JSON.stringify('not an object') },
    ];
    const result = await importLines(admin(), mixed).expect(200);
    expect(result.body.imported).toBe(2);
    expect(result.body.failed).toBe(6);
    expect(result.body.errors.map((e: { line: number }) => e.line)).toEqual([2, 3, 4, 5, 6, 8]);
    expect(result.body.errors[1].reason).toMatch(/session_id/);
    expect(result.body.errors[4].reason).toMatch(/__proto__/);
    expect(result.body.errors[5].reason).toMatch(/config must decode to a JSON object/);
    await expectConsistent();
  });

  it('isolates tenants: export shows only the caller tenant, import writes only into it', async () => {
    const ids = await seed(orchestrator('acme'));
    await orchestrator('globex')
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'g' })
      .expect(201);
    const acme = await exportLines(admin('acme'));
    expect(acme.filter((l) => l.type === 'session')).toHaveLength(3);
    const globex = await exportLines(admin('globex'));
    expect(globex).toHaveLength(1);
    expect(JSON.stringify(globex)).not.toContain(ids[0]);

    // Importing acme's backup as globex lands in globex; acme is untouched.
    await orchestrator('acme').delete(`/api/v1/sessions/${ids[0]}`).expect(200);
    const result = await importLines(admin('globex'), acme).expect(200);
    expect(result.body.imported).toBe(9);
    await orchestrator('globex').get(`/api/v1/sessions/${ids[0]}`).expect(200);
    await orchestrator('acme').get(`/api/v1/sessions/${ids[0]}`).expect(404);
    await expectConsistent('globex');
    await expectConsistent('acme');
  });

  it('streams a tenant of a few thousand sessions in chunks', async () => {
    const total = 3000;
    for (let i = 0; i < total; i += 100) {
      await orchestrator()
        .post('/api/v1/sessions/batch')
        .send({
          sessions: Array.from({ length: 100 }, (_, j) => ({
            session_config: { i: i + j },
            created_by: 'bulk',
          })),
        })
        .expect(201);
    }
    const response = await admin()
      .get('/api/v1/admin/export')
      .buffer(true)
      .parse((res, done) => {
        let chunks = 0;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          chunks++;
          text += chunk;
        });
        res.on('end', () => done(null, { chunks, text }));
      })
      .expect(200);
    expect(response.headers['transfer-encoding']).toBe('chunked');
    const { chunks, text } = response.body as { chunks: number; text: string };
    const lines = text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(total);
    expect(new Set(lines.map((l) => (JSON.parse(l) as Line).session_id)).size).toBe(total);
    // One chunk per batch of 250 at most: never one body holding the tenant.
    expect(chunks).toBeGreaterThanOrEqual(total / 250);

    await raw.flushall();
    const result = await importLines(admin(), lines).expect(200);
    expect(result.body).toMatchObject({ imported: total, failed: 0 });
    const list = await orchestrator().get('/api/v1/sessions?limit=1').expect(200);
    expect(list.body.pagination?.total_count ?? list.body.total_count).toBe(total);
    await expectConsistent();
    // 3,000 creates, an export and an import: seconds alone, over a minute beside a loaded suite.
  }, 180_000);

  it('refuses an import that is not NDJSON', async () => {
    await admin().post('/api/v1/admin/import').send({ type: 'session' }).expect(400);
    await admin()
      .post('/api/v1/admin/import?conflict=maybe')
      .set('Content-Type', NDJSON)
      .send('\n')
      .expect(400);
  });

  // Several whole-tenant exports and imports over HTTP: well over the default timeout on a loaded machine.
  it('npm run backup / restore wrap the two routes, with argument validation', async () => {
    const ids = await seed(orchestrator());
    await t.app.listen(0, '127.0.0.1');
    const url = await t.app.getUrl();
    const token = tokenFor({ sub: 'admin-1', roles: ['admin'], tenant: 'default' });
    const dir = mkdtempSync(join(tmpdir(), 'masa-backup-'));
    const file = join(dir, 'tenant.ndjson');
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(backup(['--token', token])).rejects.toThrow(/--url is required/);
      await expect(backup(['--url', 'ftp://x', '--token', token])).rejects.toThrow(/http/);
      await expect(
        restore(['--url', url, '--token', token, '--file', file, '--conflict', 'maybe']),
      ).rejects.toThrow(/cannot be read/);
      expect(await backup(['--url', url, '--token', 'not-a-token', '--out', file])).toBe(1);

      expect(await backup(['--url', url, '--token', token, '--out', file])).toBe(0);
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(9);
      await raw.flushall();
      await expect(
        restore(['--url', url, '--token', token, '--file', file, '--conflict', 'maybe']),
      ).rejects.toThrow(/--conflict/);
      expect(
        await restore(['--url', url, '--token', token, '--file', file, '--conflict', 'skip']),
      ).toBe(0);
      expect(stdout.mock.calls.map(([text]) => String(text)).join('')).toContain('"imported": 9');
      await orchestrator().get(`/api/v1/sessions/${ids[0]}`).expect(200);
      await expectConsistent();
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
