import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const MERGE = 'application/merge-patch+json';

/**
 * Memory as the plan's caller uses it: PATCH applies to the record's representation (what GET
 * returns), memory_type comes from the configured MEMORY_TYPES, and cross-agent ids may be given
 * repeated or comma-separated.
 */
describe('Plan conformance: memory and cache request shapes', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url, {
      MEMORY_TYPES: 'working,persistent,shared,episodic,semantic,procedural',
      // Encoded payloads: the nested merge must go through the codecs.
      COMPRESSION_MIN_BYTES: '0',
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
    });
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  async function newSession(): Promise<string> {
    const response = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'user-1' })
      .expect(201);
    return (response.body as { session_id: string }).session_id;
  }

  async function createMemory(agentId: string, sessionId: string, memoryType = 'working') {
    await t.http
      .post(`/api/v1/agents/${agentId}/memory`)
      .send({
        session_id: sessionId,
        memory_data: { plan: { step: 3, next: 'summarize' }, notes: ['a'] },
        memory_type: memoryType,
        created_by: 'orchestrator-1',
      })
      .expect(201);
  }

  describe('PATCH patches the representation GET returns', () => {
    it('GET, edit, PATCH: memory_data merges recursively and is not nested again', async () => {
      const sessionId = await newSession();
      await createMemory('researcher-1', sessionId);
      const path = `/api/v1/agents/researcher-1/memory/${sessionId}`;
      const before = (await t.http.get(path).expect(200)).body as Record<string, unknown>;

      const response = await t.http
        .patch(path)
        .set('Content-Type', MERGE)
        .set('If-Match', `"${String(before.version)}"`)
        .send(JSON.stringify({ memory_data: { plan: { step: 4, next: null }, k: 1 } }))
        .expect(200);
      expect(response.headers.etag).toBe('"2"');

      const after = (await t.http.get(path).expect(200)).body as Record<string, unknown>;
      expect(after.memory_data).toEqual({ plan: { step: 4 }, notes: ['a'], k: 1 });
      expect(after.memory_data).not.toHaveProperty('memory_data');
    });

    it('replaces memory_type (and the type index follows)', async () => {
      const sessionId = await newSession();
      await createMemory('typed-agent', sessionId, 'working');
      const path = `/api/v1/agents/typed-agent/memory/${sessionId}`;
      await t.http
        .patch(path)
        .set('Content-Type', MERGE)
        .send(JSON.stringify({ memory_type: 'episodic' }))
        .expect(200);
      const record = (await t.http.get(path).expect(200)).body as Record<string, unknown>;
      expect(record.memory_type).toBe('episodic');
      expect(record.memory_data).toEqual({ plan: { step: 3, next: 'summarize' }, notes: ['a'] });
      const episodic = await t.http
        .get('/api/v1/agents/typed-agent/memory?memory_type=episodic')
        .expect(200);
      expect(episodic.body.total_count).toBe(1);
      const working = await t.http
        .get('/api/v1/agents/typed-agent/memory?memory_type=working')
        .expect(200);
      expect(working.body.total_count).toBe(0);
    });

    it('refuses read-only, unknown and malformed members with a 400 naming each', async () => {
      const sessionId = await newSession();
      await createMemory('strict-agent', sessionId);
      const path = `/api/v1/agents/strict-agent/memory/${sessionId}`;
      const response = await t.http
        .patch(path)
        .set('Content-Type', MERGE)
        .send(
          JSON.stringify({
            memory_id: 'x',
            version: 7,
            agent_id: 'other',
            k: 1,
            memory_type: 'forever',
            memory_data: null,
          }),
        )
        .expect(400);
      const errors = response.body.errors as { field: string; message: string }[];
      expect(errors.map((e) => e.field)).toEqual([
        'memory_id',
        'version',
        'agent_id',
        'k',
        'memory_type',
        'memory_data',
      ]);
      expect(errors[0].message).toContain('read-only');
      expect(errors[3].message).toContain('{"memory_data": {...}}');
      expect(errors[4].message).toContain('episodic');
      expect((await t.http.get(path).expect(200)).body.version).toBe(1);
    });

    it('never loses one of 20 concurrent patches of different keys (nested and flat)', async () => {
      const sessionId = await newSession();
      await createMemory('busy-agent', sessionId);
      const path = `/api/v1/agents/busy-agent/memory/${sessionId}`;
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.http
            .patch(path)
            .set('Content-Type', MERGE)
            .send(JSON.stringify({ memory_data: { [`flat${i}`]: i, plan: { [`s${i}`]: i } } })),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      const record = (await t.http.get(path).expect(200)).body as {
        memory_data: Record<string, unknown> & { plan: Record<string, unknown> };
      };
      for (let i = 0; i < 20; i++) {
        expect(record.memory_data[`flat${i}`]).toBe(i);
        expect(record.memory_data.plan[`s${i}`]).toBe(i);
      }
    });
  });

  describe('MEMORY_TYPES', () => {
    it('accepts a configured type everywhere and refuses an unconfigured one naming the set', async () => {
      const sessionId = await newSession();
      await createMemory('procedural-agent', sessionId, 'procedural');
      const listed = await t.http
        .get(`/api/v1/memory/agents?session_ids=${sessionId}&memory_type=procedural`)
        .expect(200);
      expect(listed.body.total_count).toBe(1);

      const refused = await t.http
        .post('/api/v1/agents/procedural-agent/memory')
        .send({
          session_id: await newSession(),
          memory_data: {},
          memory_type: 'dreams',
          created_by: 'o',
        })
        .expect(400);
      expect(refused.body.errors).toEqual([
        {
          field: 'memory_type',
          message: expect.stringContaining('working, persistent, shared, episodic'),
        },
      ]);
      await t.http.get('/api/v1/agents/procedural-agent/memory?memory_type=dreams').expect(400);
    });

    it('defaults to the plan three and stops start-up on a malformed list', async () => {
      const other = await startTestApp(redis.url, { REDIS_KEY_PREFIX: 'defaults' });
      try {
        expect(other.config.memory.types).toEqual(['working', 'persistent', 'shared']);
      } finally {
        await other.close();
      }
      await expect(startTestApp(redis.url, { MEMORY_TYPES: 'working, Bad:type' })).rejects.toThrow(
        /MEMORY_TYPES/,
      );
    });
  });

  describe('cross-agent ids: repeated parameters and comma-separated values', () => {
    it('gives the same answer for ?ids=a&ids=b, ?ids=a,b and a mix', async () => {
      const s1 = await newSession();
      const s2 = await newSession();
      await createMemory('ca', s1);
      await createMemory('cb', s1);
      await createMemory('cc', s2);
      const forms = [
        `agent_ids=ca&agent_ids=cb&agent_ids=cc`,
        `agent_ids=ca,cb,cc`,
        `agent_ids=ca,cb&agent_ids=cc`,
      ];
      for (const query of forms) {
        const response = await t.http.get(`/api/v1/memory/agents?${query}`).expect(200);
        expect(response.body.total_count).toBe(3);
      }
      const bySession = await t.http
        .get(`/api/v1/memory/agents?session_ids=${s1}&session_ids=${s2}`)
        .expect(200);
      expect(bySession.body.total_count).toBe(3);
    });

    it('documents both forms in OpenAPI', async () => {
      const doc = (await t.anonymous.get('/docs-json').expect(200)).body as {
        paths: Record<string, { get: { parameters: Record<string, unknown>[] } }>;
      };
      const agentIds = doc.paths['/api/v1/memory/agents'].get.parameters.find(
        (p) => p.name === 'agent_ids',
      );
      expect(agentIds).toMatchObject({
        style: 'form',
        explode: true,
        schema: { type: 'array', items: { type: 'string' } },
      });
    });
  });

  describe('cache data is any JSON value', () => {
    it.each([['a string'], [[1, 'two', { three: 3 }]], [42], [false], [null], [{ o: 1 }]])(
      'stores and returns %j as given',
      async (data) => {
        await t.http.post('/api/v1/cache/any.value').send({ data, ttl_seconds: 60 }).expect(201);
        const read = await t.http.get('/api/v1/cache/any.value').expect(200);
        expect(read.body.data).toEqual(data);
      },
    );

    it('is documented as any JSON value, not as an object', async () => {
      const doc = (await t.anonymous.get('/docs-json').expect(200)).body as {
        components: { schemas: Record<string, { properties: Record<string, unknown> }> };
      };
      for (const schema of ['SetCacheEntryDto', 'UpdateCacheEntryDto', 'CacheEntryDto']) {
        const data = doc.components.schemas[schema].properties.data as Record<string, unknown>;
        expect(data.type).toBeUndefined();
        expect(data).toMatchObject({ nullable: true, oneOf: expect.any(Array) });
      }
    });
  });
});
