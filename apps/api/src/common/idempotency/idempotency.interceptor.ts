import { createHash } from 'node:crypto';
import {
  Injectable,
  Logger,
  UnprocessableEntityException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { from, lastValueFrom, Observable, of } from 'rxjs';
import {
  IdempotencyRepository,
  replicationScope,
  StoreUnavailableError,
  type ReplicationFrame,
} from '@app/redis';
import type { AuthenticatedRequest } from '../../auth/principal';
import { ConflictError, InvalidRequestError } from '../errors/domain-errors';
import { DEFAULT_TENANT } from '../http/tenant.decorator';
import { withRecordIdSeed } from './record-ids';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Keys are kept this long after the first response (per tenant). */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** A first request still running after this long is presumed dead; a retry may run again. */
const IN_FLIGHT_MS = 60 * 1000;
/** Response headers a replay repeats. */
const REPLAYED_HEADERS = ['location', 'etag'];

/** JSON with sorted keys, so the same body sent with another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency-Key on create routes. The first request with a key runs and its response is stored
 * for 24 h (per tenant, route path and caller); a retry with the same key and body gets that
 * response again (Idempotent-Replayed: true) instead of a 409 or a duplicate. The same key with
 * another body is a 422; a retry while the first is still running is a 409. A failed first attempt
 * (any error) releases the key so the retry runs for real; records it creates get ids derived from
 * the key (see newRecordId), so a retry of a create that did land finds it instead of making a
 * second one. A write the primary applied but too few replicas confirmed (REDIS_MIN_REPLICAS_ACK)
 * is answered 503 "outcome unknown" after its response is stored, so the retry replays it.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Idempotency');

  constructor(private readonly store: IdempotencyRepository) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (header === undefined) return next.handle();
    const key = Array.isArray(header) ? header.join(',') : header;
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw InvalidRequestError.field(
        'Idempotency-Key',
        'must be 1-128 characters of A-Z a-z 0-9 . _ : -',
      );
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return from(this.run(request, reply, key, next));
  }

  private async run(
    request: AuthenticatedRequest,
    reply: FastifyReply,
    key: string,
    next: CallHandler,
  ): Promise<unknown> {
    const tenant = request.tenant ?? DEFAULT_TENANT;
    const scope = `${request.method} ${request.url.split('?')[0]} ${request.principal?.sub ?? ''}`;
    const fingerprint = createHash('sha256').update(canonical(request.body)).digest('base64url');
    const begun = await this.store.begin(tenant, scope, key, fingerprint, IN_FLIGHT_MS);
    switch (begun.kind) {
      case 'in_flight':
        throw new ConflictError(
          'a request with this Idempotency-Key is still in progress; retry shortly',
        );
      case 'mismatch':
        throw new UnprocessableEntityException(
          'This Idempotency-Key was already used with a different request body.',
        );
      case 'completed':
        for (const [name, value] of Object.entries(begun.response.headers))
          void reply.header(name, value);
        void reply.header('idempotent-replayed', 'true');
        return lastValueFrom(of(begun.response.body));
      case 'started':
        break;
    }
    let body: unknown;
    const replication: ReplicationFrame = {};
    try {
      const seed = `${tenant}\n${scope}\n${key}\n${fingerprint}`;
      body = await withRecordIdSeed(seed, () =>
        lastValueFrom(
          new Observable((subscriber) =>
            replicationScope.run(replication, () => next.handle().subscribe(subscriber)),
          ),
        ),
      );
    } catch (error) {
      await this.store.abandon(tenant, scope, key, begun.token).catch(() => undefined);
      throw error;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (typeof value === 'string') headers[name] = value;
    }
    try {
      // In the same frame as the write: a stored response the replicas did not confirm is noted
      // like an unconfirmed write (503 below), and the retry replays it from the primary.
      await replicationScope.run(replication, () =>
        this.store.complete(
          tenant,
          scope,
          key,
          fingerprint,
          { body, headers },
          IDEMPOTENCY_RETENTION_MS,
        ),
      );
    } catch (error) {
      // The write is done; failing now would tell the caller it was not. The key stays "in flight"
      // until IN_FLIGHT_MS passes, so a retry meanwhile gets 409 rather than a second write.
      this.logger.warn(
        `Idempotency-Key response not stored after a successful write: ${String(error)}`,
      );
    }
    if (replication.shortfall) {
      throw new StoreUnavailableError(replication.shortfall.message, 'outcome_unknown');
    }
    return body;
  }
}
