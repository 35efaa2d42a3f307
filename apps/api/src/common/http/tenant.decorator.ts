import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

export const DEFAULT_TENANT = 'default';

/** Set on the request by authentication; absent until a caller is authenticated. */
export interface RequestWithTenant extends FastifyRequest {
  tenant?: string;
}

/** The tenant every key of this request is scoped to. */
export const Tenant = createParamDecorator(
  (_: unknown, context: ExecutionContext): string =>
    context.switchToHttp().getRequest<RequestWithTenant>().tenant ?? DEFAULT_TENANT,
);
