/**
 * The baseline of `npm run bench`: Fastify + ioredis and the same libs/redis repository call the
 * API makes for each scenario (same scripts, same keys, same Redis work), with nothing of the API
 * around it: no Nest, authentication, RBAC, rate limiting, validation, audit, metrics or logging.
 * Without an audit scope the write scripts append no audit record.
 *
 *   argv: <port> <redis url> <key prefix>
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { createRedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { RedisMemoryRepository } from '@app/redis/memory/redis-memory.repository';
import { RedisCacheRepository } from '@app/redis/cache/redis-cache.repository';

const [port, redisUrl, prefix] = process.argv.slice(2);
const TENANT = 'default';
const redis = createRedisClient({
  url: redisUrl,
  commandTimeoutMs: 10_000,
  connectTimeoutMs: 2000,
});
const keys = new RedisKeyBuilder(prefix);
const codec = new JsonPayloadCodec();
const sessions = new RedisSessionRepository(redis, keys, codec);
const memory = new RedisMemoryRepository(redis, keys, codec);
const cache = new RedisCacheRepository(redis, keys, codec);

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;
type Body = Record<string, unknown>;

const app = Fastify();
app.get('/static', () => ({ status: 'ok', version: 1 }));
app.get('/sessions/:id', async (request, reply) => {
  const session = await sessions.get(TENANT, (request.params as Params).id);
  return session ?? reply.code(404).send({ status: 404 });
});
app.post('/sessions', async (request, reply) => {
  const body = request.body as Body;
  const id = randomUUID();
  await sessions.create(TENANT, [
    {
      id,
      config: body.session_config as Record<string, unknown>,
      metadata: (body.metadata as Record<string, unknown> | undefined) ?? {},
      status: 'active',
      createdBy: String(body.created_by),
      ttlSeconds: 86_400,
    },
  ]);
  return reply.code(201).send({ session_id: id });
});
app.post('/sessions/batch-get', async (request) => {
  const ids = (request.body as Body).session_ids as string[];
  return { sessions: await sessions.getMany(TENANT, ids) };
});
app.get('/list/:tenant', async (request) => {
  const query = request.query as Query;
  return sessions.list((request.params as Params).tenant, {
    order: 'desc',
    offset: 0,
    limit: Number(query.limit),
    status: query.status,
    createdBy: query.created_by,
  });
});
app.get('/memory/:agent/:session', async (request, reply) => {
  const { agent, session } = request.params as Params;
  return (await memory.get(TENANT, agent, session)) ?? reply.code(404).send({ status: 404 });
});
app.addContentTypeParser(
  'application/merge-patch+json',
  { parseAs: 'string' },
  (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(error as Error);
    }
  },
);
app.patch('/memory/:agent/:session', async (request) => {
  const { agent, session } = request.params as Params;
  const patch = (request.body as Body).memory_data as Record<string, unknown>;
  return memory.mergePatch(TENANT, agent, session, patch, undefined, { maxDataBytes: 1_048_576 });
});
app.get('/cache/:key', async (request, reply) => {
  const entry = await cache.get(TENANT, (request.params as Params).key);
  return entry ?? reply.code(404).send({ status: 404 });
});
app.post('/cache/:key', async (request, reply) => {
  const body = request.body as Body;
  const outcome = await cache.set(TENANT, {
    key: (request.params as Params).key,
    data: body.data,
    ttlSeconds: Number(body.ttl_seconds ?? 3600),
    tags: [],
    onlyIfAbsent: false,
  });
  return reply.code(201).send(outcome);
});

redis.once('ready', () => {
  void app.listen({ port: Number(port), host: '127.0.0.1' }).then(() => process.send?.('ready'));
});
