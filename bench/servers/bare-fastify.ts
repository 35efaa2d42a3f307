/**
 * Baselines for bench/http.ts: a bare Fastify server with no framework, auth or validation.
 *   GET /static       -> a small JSON body
 *   GET /session/:id  -> the same HGETALL the API does for GET /api/v1/sessions/:id
 */
import Fastify from 'fastify';
import Redis from 'ioredis';

const [port, redisUrl, key] = process.argv.slice(2);
const redis = new Redis(redisUrl);
const app = Fastify();
app.get('/static', () => ({ status: 'ok', version: 1 }));
app.get('/session/:id', async () => redis.hgetall(key));
void app.listen({ port: Number(port), host: '127.0.0.1' }).then(() => process.send?.('ready'));
