import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../errors/domain-errors';

/** `"<version>"`, the strong ETag of a versioned resource. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * Parses If-Match into the version the caller expects, or undefined when the header is absent or
 * `*` (any current version). Only strong ETags are accepted: a weak one cannot guard a write.
 */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (value === '*') return undefined;
  const match = /^"(\d{1,15})"$/.exec(value);
  if (!match) {
    throw InvalidRequestError.field('If-Match', 'must be a strong ETag such as "3" (or *)');
  }
  return Number(match[1]);
}

/** The version an `If-Match` header demands, for optimistic concurrency. */
export const IfMatchVersion = createParamDecorator((_: unknown, context: ExecutionContext) =>
  parseIfMatch(context.switchToHttp().getRequest<FastifyRequest>().headers['if-match']),
);
