import { createHash, randomUUID } from 'node:crypto';
import { auditScope, type AuditFrame } from '@app/redis/audit/audit-scope';
import { AUDIT_GENESIS } from '@app/redis/audit/audit.lua';
import { RedisAuditRepository } from '@app/redis/audit/redis-audit.repository';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';

const TENANT = 'acme';

describe('RedisAuditRepository and audited write scripts against a real Redis', () => {
  let harness: RedisHarness;
  let audit: RedisAuditRepository;
  let sessions: RedisSessionRepository;
  const keys = new RedisKeyBuilder('it');
  const space = keys.audit(TENANT);

  beforeAll(async () => {
    harness = await startRedisHarness();
    audit = new RedisAuditRepository(harness.client, keys);
    sessions = new RedisSessionRepository(harness.client, keys, new JsonPayloadCodec());
  });

  afterAll(() => harness.stop());

  beforeEach(() => harness.raw.flushall());

  const session = () => ({
    id: randomUUID(),
    config: {},
    metadata: {},
    status: 'created',
    createdBy: 'u',
    ttlSeconds: 600,
  });

  function frame(record: Record<string, unknown>): AuditFrame {
    return { committed: 0, record: () => JSON.stringify(record) };
  }

  it('a write outside a request (no frame) records nothing', async () => {
    await sessions.create(TENANT, [session()]);
    expect(await harness.raw.exists(space.stream)).toBe(0);
  });

  it('a write inside a frame appends its record in the same script, chained from genesis', async () => {
    const first = session();
    const second = session();
    const f = frame({ operation: 'create' });
    await auditScope.run(f, () => sessions.create(TENANT, [first, second]));
    await auditScope.run(frame({ operation: 'delete' }), () => sessions.delete(TENANT, [first.id]));
    expect(f.committed).toBe(1);

    const entries = await audit.range(TENANT, { start: '-', end: '+' }, 10, 'asc');
    expect(entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(JSON.parse(entries[0].out)).toMatchObject({ resource_ids: [first.id, second.id] });
    expect(JSON.parse(entries[1].rec)).toEqual({ operation: 'delete' });
    expect(entries[0].prev).toBe(AUDIT_GENESIS);
    expect(entries[1].prev).toBe(entries[0].hash);
    for (const e of entries) {
      const hash = createHash('sha1')
        .update(`${e.prev}\n${e.seq}\n${e.ts}\n${e.rec}\n${e.out}`)
        .digest('hex');
      expect(e.hash).toBe(hash);
    }
    expect(await audit.head(TENANT)).toEqual({ seq: 2, hash: entries[1].hash, id: entries[1].id });
  });

  it('a script that changes nothing appends nothing (delete of a missing id)', async () => {
    const f = frame({ operation: 'delete' });
    await auditScope.run(f, () => sessions.delete(TENANT, [randomUUID()]));
    expect(f.committed).toBe(0);
    expect(await harness.raw.exists(space.stream)).toBe(0);
  });

  it('appends directly, pages newest first, and looks seals up by sequence', async () => {
    for (let i = 0; i < 5; i++) await audit.append(TENANT, JSON.stringify({ i }));
    const newest = await audit.range(TENANT, { start: '-', end: '+' }, 2, 'desc');
    expect(newest.map((e) => e.seq)).toEqual([5, 4]);
    const older = await audit.range(TENANT, { start: '-', end: `(${newest[1].id}` }, 10, 'desc');
    expect(older.map((e) => e.seq)).toEqual([3, 2, 1]);

    await audit.addSeal(TENANT, { seq: 2, hash: 'h2', mac: 'm2' });
    await audit.addSeal(TENANT, { seq: 5, hash: 'h5', mac: 'm5' });
    expect((await audit.seals(TENANT, 3, 5, 10)).map((s) => s.seq)).toEqual([5]);
    expect(await audit.lastSeal(TENANT)).toMatchObject({ seq: 5, hash: 'h5', mac: 'm5' });
    await expect(audit.addSeal(TENANT, { seq: 5, hash: 'x', mac: 'y' })).rejects.toThrow();
  });

  it('trims by commit time: records after the cut-off stay', async () => {
    for (let i = 0; i < 3; i++) await audit.append(TENANT, '{}');
    const removed = await audit.trim(TENANT, Date.now() - 60_000, 100);
    expect(removed).toBe(0);
    expect(await harness.raw.xlen(space.stream)).toBe(3);
  });
});
