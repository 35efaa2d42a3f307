import {
  createParamDecorator,
  UnsupportedMediaTypeException,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../common/errors/domain-errors';
import {
  isPlainJsonObject,
  jsonDepth,
  MAX_JSON_DEPTH,
} from '../common/validation/json-object.validator';

export const MERGE_PATCH_CONTENT_TYPE = 'application/merge-patch+json';

/**
 * The body of an RFC 7396 merge patch. Only `application/merge-patch+json` is accepted: a plain
 * JSON body to PATCH is ambiguous (JSON Patch? a replacement?), so it gets 415. memory_data is an
 * object, so the patch must be one too (a non-object patch would replace memory_data with a
 * non-object).
 */
export const MergePatchBody = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== MERGE_PATCH_CONTENT_TYPE) {
    throw new UnsupportedMediaTypeException(`Send the merge patch as ${MERGE_PATCH_CONTENT_TYPE}.`);
  }
  const body: unknown = request.body;
  if (!isPlainJsonObject(body)) {
    throw InvalidRequestError.field('body', 'a merge patch must be a JSON object');
  }
  if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw InvalidRequestError.field(
      'body',
      `must not be nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  return body;
});
