import {
  HttpStatus,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Observable, type Subscriber } from 'rxjs';
import { auditScope } from '@app/redis';
import { AuditRecorder, type AuditedRequest } from '../../audit/audit-recorder';
import { deferredVerdictOf } from '../../throttling/deferred-verdict';

/**
 * The one global interceptor. Nest wraps every interceptor of a route in its own rxjs chain and
 * async resource, a cost every request paid twice when the audit frame and the rate-limit verdict
 * were two interceptors; both only do simple work before and after the handler, so they share
 * this one, with one plain Observable and no operator chain:
 * - before: opens the request's audit frame (AuditRecorder.open) and runs the handler inside
 *   auditScope, so the repositories' write scripts append the record in the same atomic step as
 *   the change;
 * - after: a read whose rate-limit verdict is still on its way (TenantThrottlerGuard sends it along
 *   with the read, one flush) is answered only once the verdict is in: over the limit is a 429
 *   whatever the handler produced (its read is wasted), as are a handler's own errors; under it,
 *   the handler's result goes out with the X-RateLimit headers the verdict set.
 */
@Injectable()
export class RequestInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditRecorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<AuditedRequest>();
    const frame = this.audit.open(request, successStatus(request.method, context.getHandler()));
    const verdict = deferredVerdictOf(request);
    if (frame === undefined && verdict === undefined) return next.handle();
    return new Observable((subscriber) => {
      const target = verdict === undefined ? subscriber : held(subscriber, verdict);
      const subscribe = () => next.handle().subscribe(target);
      const subscription = frame === undefined ? subscribe() : auditScope.run(frame, subscribe);
      return () => subscription.unsubscribe();
    });
  }
}

/**
 * A subscriber that passes the handler's answer on only once `verdict` is in; a refusal replaces
 * whatever the handler produced, values and errors alike.
 */
function held(subscriber: Subscriber<unknown>, verdict: Promise<boolean>) {
  const after = (deliver: () => void) =>
    verdict.then(deliver, (refusal: unknown) => subscriber.error(refusal));
  let answer: Promise<unknown> = Promise.resolve();
  // Each notification waits for the verdict and for the one before it, so their order holds.
  const queue = (deliver: () => void) => {
    answer = answer.then(() => after(deliver));
  };
  return {
    next: (value: unknown) => queue(() => subscriber.next(value)),
    error: (error: unknown) => queue(() => subscriber.error(error)),
    complete: () => queue(() => subscriber.complete()),
  };
}

const statuses = new WeakMap<object, number>();

/** What the handler answers on success: its @HttpCode, else 201 for a POST and 200 otherwise. */
function successStatus(method: string, handler: object): number {
  let status = statuses.get(handler);
  if (status === undefined) {
    status =
      (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
      (method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    statuses.set(handler, status);
  }
  return status;
}
