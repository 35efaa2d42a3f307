import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { ApiProblem } from '../swagger/api-problems.decorator';
import { IDEMPOTENCY_KEY_PATTERN, IdempotencyInterceptor } from './idempotency.interceptor';

/** Makes a create route safe to retry with an Idempotency-Key header (see the interceptor). */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Any unique value (1-128 of A-Z a-z 0-9 . _ : -). A retry with the same key and body returns ' +
        'the first response (24 h, with Idempotent-Replayed: true); the same key with another body ' +
        'is a 422; a retry while the first is still running is a 409.',
      example: '7c0e1f7e-create-memory-1',
      schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source, maxLength: 128 },
    }),
    ApiProblem(
      409,
      'Conflicts with the current state, or a request with this Idempotency-Key is still running.',
    ),
    ApiProblem(422),
  );
