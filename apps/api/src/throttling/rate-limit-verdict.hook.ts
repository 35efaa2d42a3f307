import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { prepareProblem } from '../common/filters/problem-details.filter';
import { deferredVerdictOf } from './deferred-verdict';

/**
 * A read's rate-limit check and the read itself go to Redis together (one flush, see
 * TenantThrottlerGuard); here, as a Fastify hook and not a Nest interceptor (every interceptor of a
 * route costs each request an rxjs chain and an async resource), the answer waits for the verdict
 * before it leaves: over the limit is a 429 problem in place of whatever the handler produced (its
 * read is wasted), its own errors included; under it, the handler's answer goes out with the
 * X-RateLimit headers the verdict set.
 *
 * Must be the first onSend hook (install it before Nest builds the app), so that the hooks after it
 * (the audit recorder, which records the 429, compression) see the answer that is sent.
 */
export function installRateLimitVerdict(fastify: FastifyInstance): void {
  const logger = new Logger('Errors');
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const verdict = deferredVerdictOf(request);
    if (verdict === undefined) return done(null, payload);
    verdict.then(
      () => done(null, payload),
      (refusal: unknown) => {
        const problem = prepareProblem(refusal, request, reply, logger);
        done(null, JSON.stringify(problem));
      },
    );
  });
}
