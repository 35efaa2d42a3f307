import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Role } from './permissions';

/** Who is calling, from a verified token. */
export interface Principal {
  /** The caller's id; for the `agent` role it is the agent id. */
  sub: string;
  roles: Role[];
  tenant: string;
  /**
   * OAuth scopes (JWT_SCOPES_CLAIM, or an API key's scopes). When present, a request needs the
   * permission from a role and from a scope (config/rbac.yaml maps both).
   */
  scopes?: string[];
}

export interface AuthenticatedRequest extends FastifyRequest {
  principal?: Principal;
  tenant?: string;
}

export function isAgentOnly(principal: Principal | undefined): boolean {
  return (
    principal !== undefined &&
    principal.roles.length > 0 &&
    principal.roles.every((role) => role === 'agent')
  );
}

/** True when the caller may act for others (set created_by, read any agent's memory). */
export function actsForOthers(principal: Principal | undefined): boolean {
  return (
    principal === undefined ||
    principal.roles.some((role) => role === 'admin' || role === 'orchestrator')
  );
}

/**
 * The actor id to record for a write: what the body names when the caller acts for others,
 * otherwise the caller itself (mass-assignment guard). Without a claim it is the caller; undefined
 * only when there is neither (a route without a principal).
 */
export function actingAs(caller: Principal | undefined, claimed: string): string;
export function actingAs(
  caller: Principal | undefined,
  claimed: string | undefined,
): string | undefined;
export function actingAs(
  caller: Principal | undefined,
  claimed: string | undefined,
): string | undefined {
  if (claimed === undefined) return caller?.sub;
  return caller === undefined || actsForOthers(caller) ? claimed : caller.sub;
}

/** The verified caller (undefined only on public routes). */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().principal,
);
