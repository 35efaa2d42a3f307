import {
  HttpStatus,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { auditScope } from '@app/redis';
import { auditedRoute } from './audit-operations';
import { AuditRecorder, type AuditedRequest, type RequestAuditFrame } from './audit-recorder';

/**
 * Global. Puts the request's audit frame in AsyncLocalStorage for the rest of the request: the
 * repositories' write scripts take the record from it and append it in the same atomic step as the
 * change. The record is built when the script is called, so it knows who (token subject, tenant,
 * roles), what (operation, resource, sanitized request data), from where (IP, user agent), the
 * request and trace ids, and the answer the handler will give on success (its status code).
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly recorder: AuditRecorder,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<AuditedRequest>();
    const route = auditedRoute(request.method, request.routeOptions?.url);
    if (!route) return next.handle();

    const state = this.recorder.stateOf(request);
    state.route = route;
    const status =
      this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    const frame: RequestAuditFrame = {
      committed: 0,
      records: [],
      record: () => JSON.stringify(this.recorder.body(request, route, { status, error: null })),
      onCommit: (record) => frame.records.push(record),
      actor: request.principal?.sub,
    };
    state.frame = frame;
    return new Observable((subscriber) =>
      auditScope.run(frame, () => next.handle().subscribe(subscriber)),
    );
  }
}
