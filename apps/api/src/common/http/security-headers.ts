import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify from 'fastify';

/**
 * The response headers helmet sets with `options`, worked out once at start-up. With no CSP nonces
 * they are the same on every response, while the plugin computed and set each of them on the raw
 * response for every request (a few percent of a read's CPU); the app sets this object instead.
 * Asked of helmet itself (a throwaway server, one injected request, minus what Fastify sends
 * without it), so an upgrade of helmet changes what is sent, never silently drops a header.
 */
export async function securityHeaders(
  options: FastifyHelmetOptions,
): Promise<Record<string, string>> {
  const answered = async (withHelmet: boolean) => {
    const probe = Fastify();
    if (withHelmet) await probe.register(helmet, options);
    probe.get('/', () => 'ok');
    const response = await probe.inject('/');
    await probe.close();
    return response.headers;
  };
  const plain = await answered(false);
  const secured = await answered(true);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(secured)) {
    if (name in plain || value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return headers;
}
