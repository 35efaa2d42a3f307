import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { register } from 'prom-client';
import { AuditRetentionSweeper } from '../../apps/api/src/audit/audit-retention.sweeper';
import { AuditSealer } from '../../apps/api/src/audit/audit-sealer';
import { AuditWriter } from '../../apps/api/src/audit/audit-writer';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { sub: 'admin-1', roles: ['admin'], tenant: 'default' };
const ANALYST = { sub: 'analyst-1', roles: ['analyst'], tenant: 'default' };
const AGENT = { sub: 'agent-7', roles: ['agent'], tenant: 'default' };
const OTHER_TENANT_ADMIN = { sub: 'admin-2', roles: ['admin'], tenant: 'other' };
const SEAL_KEY = 'test-seal-key-0123456789abcdef0123456789';

interface Rec {
  event_id: string;
  sequence: number;
  operation: string;
  resource_type: string;
  resource_id: string | null;
  resource_ids: string[];
  user_id: string | null;
  tenant: string;
  roles: string[];
  request_id: string;
  ip_address: string | null;
  user_agent: string | null;
  request_data: unknown;
  response_data: Record<string, unknown> | null;
  success: boolean;
  status_code: number;
  error: string | null;
  trace_id: string | null;
  committed_with_change: boolean;
  hash: string;
  prev_hash: string;
}

describe('Audit trail over HTTP', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;
  let prefix: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    const dir = mkdtempSync(join(tmpdir(), 'audit-e2e-'));
    const limits = join(dir, 'rate-limits.yaml');
    writeFileSync(
      limits,
      'window_seconds: 60\nclasses:\n  reads: 100000\n  writes: 100000\n  bulk: 100000\n' +
        '  invalidation: 100000\n  audit_export: 4\nfailed_auth_per_ip: 100000\n',
    );
    t = await startTestApp(redis.url, {
      RATE_LIMITS_CONFIG_PATH: limits,
      SESSION_MAX_BYTES: '2048',
      AUDIT_SEAL_KEY: SEAL_KEY,
      AUDIT_SWEEP_INTERVAL_MS: '0',
      // These tests check what the sanitizer keeps of values (the default keeps none).
      AUDIT_PAYLOADS: 'values',
    });
    prefix = t.config.redis.keyPrefix;
  });

  afterAll(async () => {
    await t.close();
    raw.disconnect();
    await redis.dispose();
  });

  beforeEach(async () => {
    await raw.flushall();
  });

  const stream = (tenant = 'default') => `${prefix}:{${tenant}}:audit`;

  async function trail(query: Record<string, string> = {}, claims = ADMIN): Promise<Rec[]> {
    const response = await t
      .as(claims)
      .get('/api/v1/audit')
      .query({ limit: '100', ...query });
    expect(response.status).toBe(200);
    return response.body.audit_records as Rec[];
  }

  async function newSession(body: Record<string, unknown> = {}): Promise<string> {
    const response = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: { agents: ['a'] }, created_by: 'u', ...body })
      .expect(201);
    return response.body.session_id as string;
  }

  describe('what a change records', () => {
    it('records who, what, from where, with secrets redacted and PII masked, atomically with the change', async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const created = await t.http
        .post('/api/v1/sessions')
        .set('user-agent', 'audit-test/1.0')
        .set('x-request-id', 'req-audit-1')
        .set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`)
        .send({
          session_config: { agents: ['a'], llm: { apiKey: 'sk-live-123' } },
          metadata: { contact: 'jane.doe@example.com', Password: 'hunter2' },
          created_by: 'u',
        })
        .expect(201);
      const [record] = await trail();
      expect(record).toMatchObject({
        sequence: 1,
        operation: 'create',
        resource_type: 'session',
        resource_id: created.body.session_id,
        resource_ids: [created.body.session_id],
        user_id: 'orchestrator-1',
        tenant: 'default',
        roles: ['orchestrator'],
        request_id: 'req-audit-1',
        ip_address: expect.stringMatching(/127\.0\.0\.1/),
        user_agent: 'audit-test/1.0',
        request_data: {
          session_config: { agents: ['a'], llm: { apiKey: '[REDACTED]' } },
          metadata: { contact: 'j***@example.com', Password: '[REDACTED]' },
          created_by: 'u',
        },
        response_data: { version: 1 },
        success: true,
        status_code: 201,
        error: null,
        trace_id: traceId,
        committed_with_change: true,
        prev_hash: '0'.repeat(40),
      });
      expect(JSON.stringify(await raw.xrange(stream(), '-', '+'))).not.toMatch(/hunter2|sk-live/);
    });

    it('names every id of a batch and every key an invalidation deleted', async () => {
      const batch = await t.http
        .post('/api/v1/sessions/batch')
        .send({ sessions: [1, 2, 3].map(() => ({ session_config: {}, created_by: 'u' })) })
        .expect(201);
      const ids = (batch.body.sessions as { session_id: string }[]).map((s) => s.session_id);
      for (const key of ['k1', 'k2', 'other']) {
        await t.http.post(`/api/v1/cache/${key}`).send({ data: 1 }).expect(201);
      }
      await t.http.post('/api/v1/cache/invalidate').send({ pattern: 'k*' }).expect(200);
      await t.as(ADMIN).post('/api/v1/admin/reencrypt').send({}).expect(200);
      await t.http.post('/api/v1/sessions/batch-delete').send({ session_ids: ids }).expect(200);

      const records = await trail();
      const byOp = (op: string) => records.filter((r) => r.operation === op);
      expect(byOp('batch_create')[0].resource_ids.sort()).toEqual([...ids].sort());
      expect(byOp('invalidate')[0].resource_ids.sort()).toEqual(['k1', 'k2']);
      expect(byOp('batch_delete')[0].resource_ids.sort()).toEqual([...ids].sort());
      expect(byOp('reencrypt')[0]).toMatchObject({ resource_type: 'admin', user_id: 'admin-1' });
      // Filtering by one id finds the batch records that touched it.
      const touched = await trail({ resource_id: ids[1] });
      expect(touched.map((r) => r.operation).sort()).toEqual(['batch_create', 'batch_delete']);
    });

    it('records refused and failed attempts: 400, 401 (with the IP), 403, 404, 409, 412, 413, 415, 422, 429', async () => {
      const sessionId = await newSession();
      await t.http.post('/api/v1/sessions').send({ created_by: 'u', bogus: 1 }).expect(400);
      await t.anonymous.delete(`/api/v1/sessions/${sessionId}`).expect(401);
      await t.as(AGENT).delete(`/api/v1/sessions/${sessionId}`).expect(403);
      await t.http.put(`/api/v1/sessions/${randomUUID()}`).send({ metadata: {} }).expect(404);
      const memory = {
        session_id: sessionId,
        memory_data: {},
        memory_type: 'working',
        created_by: 'o',
      };
      await t.http.post('/api/v1/agents/a1/memory').send(memory).expect(201);
      await t.http.post('/api/v1/agents/a1/memory').send(memory).expect(409);
      await t.http
        .put(`/api/v1/sessions/${sessionId}`)
        .set('If-Match', '"9"')
        .send({ metadata: {} })
        .expect(412);
      await t.http
        .post('/api/v1/sessions')
        .send({ session_config: { blob: 'x'.repeat(4096) }, created_by: 'u' })
        .expect(413);
      await t.http
        .post('/api/v1/sessions')
        .set('content-type', 'text/plain')
        .send('hi')
        .expect(415);
      await t.http
        .post('/api/v1/sessions')
        .set('Idempotency-Key', 'k-1')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201);
      await t.http
        .post('/api/v1/sessions')
        .set('Idempotency-Key', 'k-1')
        .send({ session_config: { other: 1 }, created_by: 'u' })
        .expect(422);
      // audit_export allows 4 per window; the 5th export is refused.
      for (let i = 0; i < 4; i++) await t.as(ADMIN).get('/api/v1/audit/export').expect(200);
      await t.as(ADMIN).get('/api/v1/audit/export').expect(429);

      const failures = await trail({ success: 'false' });
      const byStatus = new Map(failures.map((r) => [r.status_code, r]));
      expect([...byStatus.keys()].sort()).toEqual([
        400, 401, 403, 404, 409, 412, 413, 415, 422, 429,
      ]);
      expect(byStatus.get(401)).toMatchObject({
        user_id: null,
        ip_address: expect.stringMatching(/127\.0\.0\.1/),
        operation: 'delete',
        resource_id: sessionId,
        committed_with_change: false,
      });
      expect(byStatus.get(403)).toMatchObject({ user_id: 'agent-7', roles: ['agent'] });
      expect(byStatus.get(409)).toMatchObject({
        resource_type: 'memory',
        resource_id: `a1/${sessionId}`,
      });
      expect(byStatus.get(429)).toMatchObject({ operation: 'export', user_id: 'admin-1' });
      for (const record of failures) {
        expect(record.success).toBe(false);
        expect(typeof record.error).toBe('string');
      }
      // The session still exists: no refused attempt changed anything.
      await t.http.get(`/api/v1/sessions/${sessionId}`).expect(200);
    });

    it('does not record reads unless AUDIT_READS=true, but records refused reads', async () => {
      const sessionId = await newSession();
      await t.http.get(`/api/v1/sessions/${sessionId}`).expect(200);
      await t.http.get('/api/v1/sessions').expect(200);
      await t.anonymous.get(`/api/v1/sessions/${sessionId}`).expect(401);
      const records = await trail();
      expect(records.map((r) => `${r.operation} ${r.status_code}`)).toEqual([
        'read 401',
        'create 201',
      ]);
    });
  });

  describe('reading the trail', () => {
    it('takes instants before 1970 as the ends of the trail, not a 500', async () => {
      // `from=0000` is year 0: before every stream id. An exclusive bound at 0-0 was a Redis error.
      const verified = await t.as(ADMIN).get('/api/v1/audit/verify?from=0000').expect(200);
      expect(verified.body.verified).toBe(true);
      const none = await t.as(ADMIN).get('/api/v1/audit?to=0001').expect(200);
      expect(none.body.audit_records).toEqual([]);
    });

    it('pages newest first with limit and next_cursor, filters, and bounds by time', async () => {
      for (let i = 0; i < 5; i++) await newSession();
      const sessionId = await newSession();
      await t.http
        .put(`/api/v1/sessions/${sessionId}/status`)
        .send({ status: 'done', updated_by: 'x' })
        .expect(200);
      await t.http.delete(`/api/v1/sessions/${sessionId}`).expect(200);

      const pages: Rec[][] = [];
      let cursor: string | undefined;
      do {
        const response = await t
          .as(ADMIN)
          .get('/api/v1/audit')
          .query({ limit: '3', ...(cursor ? { cursor } : {}) })
          .expect(200);
        pages.push(response.body.audit_records);
        cursor = response.body.next_cursor ?? undefined;
      } while (cursor);
      const all = pages.flat();
      expect(all.map((r) => r.sequence)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
      expect(all.map((r) => r.operation).slice(0, 2)).toEqual(['delete', 'status_update']);

      expect((await trail({ resource_id: sessionId })).map((r) => r.operation)).toEqual([
        'delete',
        'status_update',
        'create',
      ]);
      expect((await trail({ operation: 'create', resource_type: 'session' })).length).toBe(6);
      expect((await trail({ user_id: 'orchestrator-1', success: 'true' })).length).toBe(8);
      expect((await trail({ user_id: 'nobody' })).length).toBe(0);
      const future = new Date(Date.now() + 60_000).toISOString();
      expect((await trail({ from: future })).length).toBe(0);
      expect((await trail({ to: future })).length).toBe(8);
      const cursorOfOtherFilters = (
        await t.as(ADMIN).get('/api/v1/audit').query({ limit: '1' }).expect(200)
      ).body.next_cursor as string;
      await t
        .as(ADMIN)
        .get('/api/v1/audit')
        .query({ limit: '1', operation: 'create', cursor: cursorOfOtherFilters })
        .expect(400);
      const forged = Buffer.from(
        JSON.stringify({
          v: 1,
          s: 1,
          i: 'not-an-id',
          q: JSON.parse(Buffer.from(cursorOfOtherFilters, 'base64url').toString()).q,
        }),
      ).toString('base64url');
      await t.as(ADMIN).get('/api/v1/audit').query({ limit: '1', cursor: forged }).expect(400);
    });

    it('lets admin and analyst read, only admin verify, and shows each tenant only its own trail', async () => {
      await newSession();
      await t
        .as({ sub: 'orch-o', roles: ['orchestrator'], tenant: 'other' })
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201);
      expect((await trail({}, ANALYST)).map((r) => r.tenant)).toEqual(['default']);
      expect((await trail({}, OTHER_TENANT_ADMIN)).map((r) => r.user_id)).toEqual(['orch-o']);
      await t.http.get('/api/v1/audit').expect(403);
      await t.as(AGENT).get('/api/v1/audit').expect(403);
      await t.as(ANALYST).get('/api/v1/audit/verify').expect(403);
      await t.as(ADMIN).get('/api/v1/audit/verify').expect(200);
    });

    it('exports a range as NDJSON, oldest first', async () => {
      for (let i = 0; i < 3; i++) await newSession();
      const response = await t
        .as(ADMIN)
        .get('/api/v1/audit/export')
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => done(null, text));
        })
        .expect(200);
      expect(response.headers['content-type']).toMatch(/application\/x-ndjson/);
      const lines = (response.body as string)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Rec);
      // The export's own record is appended before the body streams, so the export includes it.
      expect(lines.map((r) => `${r.sequence} ${r.operation}`)).toEqual([
        '1 create',
        '2 create',
        '3 create',
        '4 export',
      ]);
    });
  });

  describe('tamper evidence', () => {
    async function seed(n: number) {
      for (let i = 0; i < n; i++) await newSession();
      return raw.xrange(stream(), '-', '+');
    }

    async function verify(query: Record<string, string> = {}) {
      const response = await t.as(ADMIN).get('/api/v1/audit/verify').query(query).expect(200);
      return response.body as {
        verified: boolean;
        records_checked: number;
        first_break: { sequence: number; reason: string } | null;
      };
    }

    /** Rewrites the stream entry by entry (ids kept), letting `change` edit or drop entries. */
    async function rewrite(
      change: (fields: string[], index: number) => string[] | null,
    ): Promise<void> {
      const entries = await raw.xrange(stream(), '-', '+');
      await raw.del(stream());
      for (const [i, [id, fields]] of entries.entries()) {
        const changed = change(fields, i);
        if (changed) await raw.xadd(stream(), id, ...changed);
      }
    }

    const field = (fields: string[], name: string) => fields[fields.indexOf(name) + 1];
    const withField = (fields: string[], name: string, value: string) =>
      fields.map((v, i) => (i > 0 && fields[i - 1] === name && i % 2 === 1 ? value : v));

    it('verifies an untouched trail', async () => {
      await seed(5);
      expect(await verify()).toMatchObject({
        verified: true,
        records_checked: 5,
        first_break: null,
      });
    });

    it('does not mistake records appended during the walk for tampering', async () => {
      await seed(3);
      const results = await Promise.all([
        ...Array.from({ length: 5 }, () => verify()),
        ...Array.from({ length: 20 }, () => newSession()),
        ...Array.from({ length: 5 }, () => verify()),
      ]);
      for (const result of results.slice(0, 5).concat(results.slice(25))) {
        expect(result).toMatchObject({ verified: true, first_break: null });
      }
    });

    it('detects an edited record', async () => {
      await seed(5);
      await rewrite((fields, i) =>
        i === 2
          ? withField(fields, 'rec', field(fields, 'rec').replace('orchestrator-1', 'someone-else'))
          : fields,
      );
      expect(await verify()).toMatchObject({
        verified: false,
        first_break: { sequence: 3, reason: 'hash_mismatch' },
      });
    });

    it('detects a deleted record in the middle and at the end', async () => {
      const entries = await seed(5);
      await raw.xdel(stream(), entries[1][0]);
      expect(await verify()).toMatchObject({
        verified: false,
        first_break: { sequence: 3, reason: 'chain_broken' },
      });
      await raw.flushall();
      const again = await seed(5);
      await raw.xdel(stream(), again[4][0]);
      expect(await verify()).toMatchObject({
        verified: false,
        first_break: { sequence: 4, reason: 'head_mismatch' },
      });
    });

    it('detects reordered records', async () => {
      const entries = await seed(4);
      // Streams only grow at the tail: a reorder is a delete and a re-append.
      await raw.xdel(stream(), entries[1][0]);
      await raw.xadd(stream(), '*', ...entries[1][1]);
      expect(await verify()).toMatchObject({
        verified: false,
        first_break: { sequence: 3, reason: 'chain_broken' },
      });
    });

    it('detects a recomputed chain through the keyed seal', async () => {
      await seed(3);
      const sealer = t.app.get(AuditSealer);
      await sealer.sweep();
      await newSession();
      expect(await verify()).toMatchObject({ verified: true, records_checked: 4 });
      // An attacker edits record 2 and recomputes every hash after it (and the head): the chain
      // is consistent again, but the seal over seq 3 no longer matches.
      const { createHash } = await import('node:crypto');
      let prev = '';
      await rewrite((fields, i) => {
        let f = fields;
        if (i === 1) f = withField(f, 'rec', field(f, 'rec').replace('"u"', '"x"'));
        if (i >= 1) {
          f = withField(f, 'prev', prev);
          const hash = createHash('sha1')
            .update(
              `${field(f, 'prev')}\n${field(f, 'seq')}\n${field(f, 'ts')}\n${field(f, 'rec')}\n${field(f, 'out')}`,
            )
            .digest('hex');
          f = withField(f, 'hash', hash);
        }
        prev = field(f, 'hash');
        return f;
      });
      const [lastId] = (await raw.xrevrange(stream(), '+', '-', 'COUNT', 1))[0];
      await raw.hset(`${stream()}:head`, 'hash', prev, 'id', lastId);
      expect(await verify()).toMatchObject({
        verified: false,
        first_break: { sequence: 3, reason: 'seal_mismatch' },
      });
    });

    it('verifies a sub-range against the record before it, and in bounded steps', async () => {
      await seed(6);
      const first = await verify({ limit: '4' });
      expect(first).toMatchObject({ verified: true, records_checked: 4, complete: false });
      const rest = await verify({ after: (first as unknown as { next_after: string }).next_after });
      // 5, 6 and the record of the first verify call (7).
      expect(rest).toMatchObject({ verified: true, records_checked: 3, complete: true });
    });
  });

  describe('retention and failures', () => {
    it('trims records older than AUDIT_RETENTION_DAYS by time, not by count', async () => {
      const old = Date.now() - 3 * 86_400_000;
      // Records committed three days ago (written as the script would, ids = commit time).
      for (let i = 0; i < 150; i++) {
        await raw.xadd(
          stream(),
          `${old + i}-0`,
          'seq',
          String(i + 1),
          'ts',
          String(old + i),
          'rec',
          '{}',
          'out',
          '',
          'prev',
          '',
          'hash',
          '',
        );
      }
      await raw.sadd(`${prefix}:tenants`, 'default');
      await newSession();
      const sweeper = t.app.get(AuditRetentionSweeper);
      (t.config.audit as { retentionDays: number }).retentionDays = 1;
      try {
        await sweeper.sweep();
      } finally {
        (t.config.audit as { retentionDays: number }).retentionDays = 2557;
      }
      const left = await raw.xrange(stream(), '-', '+');
      // Approximate trimming removes whole stream nodes (100 entries by default): the newest
      // record stays, most old ones are gone, none newer than the cut-off was touched.
      expect(left.length).toBeLessThan(60);
      expect(JSON.parse(left[left.length - 1][1][5])).toMatchObject({
        operation: 'create',
      });
    });

    it('records the 503 of a Redis outage once Redis is back', async () => {
      const writer = t.app.get(AuditWriter);
      await redis.stop();
      try {
        await t.http
          .post('/api/v1/sessions')
          .send({ session_config: {}, created_by: 'u' })
          .expect(503);
        expect(writer.buffered).toBeGreaterThanOrEqual(1);
      } finally {
        await redis.restart();
      }
      for (let i = 0; i < 50; i++) {
        if ((await t.as(ADMIN).get('/api/v1/audit')).status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await writer.flush();
      expect(writer.buffered).toBe(0);
      expect(await trail({ success: 'false' })).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            status_code: 503,
            operation: 'create',
            user_id: 'orchestrator-1',
          }),
        ]),
      );
    });

    it('counts, buffers and retries a refused attempt whose audit append fails', async () => {
      const writer = t.app.get(AuditWriter);
      const failures = () =>
        register.getSingleMetricAsString('masa_audit_write_failures_total').then((text) => {
          const line = text
            .split('\n')
            .find((l) => l.startsWith('masa_audit_write_failures_total'));
          return Number(line?.split(' ')[1] ?? 0);
        });
      const before = await failures();
      // The stream key holds a string, so every XADD to it fails (WRONGTYPE) until it is removed.
      await raw.set(stream(), 'not a stream');
      try {
        await t.anonymous.get('/api/v1/sessions').expect(401);
        expect(await failures()).toBe(before + 1);
        expect(writer.buffered).toBe(1);
      } finally {
        await raw.del(stream());
      }
      await writer.flush();
      expect(writer.buffered).toBe(0);
      const records = await trail();
      expect(records.map((r) => r.status_code)).toContain(401);
    });
  });

  describe('with AUDIT_READS=true and AUDIT_STDOUT=true', () => {
    let reads: TestApp;

    beforeAll(async () => {
      reads = await startTestApp(redis.url, {
        AUDIT_READS: 'true',
        AUDIT_STDOUT: 'true',
        AUDIT_PII_MASKING: 'false',
        AUDIT_PAYLOADS: 'values',
        AUDIT_SWEEP_INTERVAL_MS: '0',
      });
    });

    afterAll(() => reads.close());

    it('records reads too and writes every record as one JSON line on stdout', async () => {
      const lines: string[] = [];
      const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
        if (typeof chunk === 'string' && chunk.startsWith('{"audit":')) lines.push(chunk);
        return true;
      });
      let sessionId: string;
      try {
        const created = await reads.http
          .post('/api/v1/sessions')
          .send({ session_config: {}, metadata: { mail: 'a@b.io' }, created_by: 'u' })
          .expect(201);
        sessionId = created.body.session_id as string;
        await reads.http.get(`/api/v1/sessions/${sessionId}`).expect(200);
        await reads.http.get('/api/v1/sessions').expect(200);
      } finally {
        spy.mockRestore();
      }
      // Reading the trail is a read too; its own line is not captured (and not printed) here.
      const silence = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const records = (
        await reads.as(ADMIN).get('/api/v1/audit').query({ limit: '100' }).expect(200)
      ).body.audit_records as Rec[];
      silence.mockRestore();
      expect(records.map((r) => `${r.operation} ${r.resource_id ?? '-'}`)).toEqual([
        'list -',
        `read ${sessionId}`,
        `create ${sessionId}`,
      ]);
      // Masking off: the address stays readable.
      expect(records[2].request_data).toMatchObject({ metadata: { mail: 'a@b.io' } });
      expect(records[1].response_data).toMatchObject({ session_id: sessionId });
      expect(lines).toHaveLength(3);
      const logged = lines.map((line) => (JSON.parse(line) as { audit: Rec }).audit);
      expect(logged.map((r) => r.operation)).toEqual(['create', 'read', 'list']);
      expect(logged.every((r) => r.tenant === 'default')).toBe(true);
    });
  });
});
