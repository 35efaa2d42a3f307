import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, from, mergeMap, type Observable } from 'rxjs';
import { deferredVerdictOf } from './deferred-verdict';

/**
 * Global. A read's rate-limit check and the read itself go to Redis together (one flush, see
 * TenantThrottlerGuard); here the answer waits for the verdict: over the limit is a 429 whatever the
 * handler produced (its read is wasted), as are a handler's own errors; under it, the handler's
 * result goes out with the X-RateLimit headers the verdict set.
 */
@Injectable()
export class RateLimitVerdictInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const verdict = deferredVerdictOf(context.switchToHttp().getRequest<object>());
    if (verdict === undefined) return next.handle();
    return next.handle().pipe(
      mergeMap((value: unknown) => from(verdict.then(() => value))),
      catchError((error: unknown) =>
        from(
          verdict.then(() => {
            throw error;
          }),
        ),
      ),
    );
  }
}
