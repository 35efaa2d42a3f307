import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/** Makes a create route safe to retry with an Idempotency-Key header (see the interceptor). */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Any unique value (1-128 of A-Z a-z 0-9 . _ : -). A retry with the same key and body returns ' +
        'the first response (24 h); the same key with another body is a 422.',
      example: '7c0e1f7e-create-memory-1',
    }),
  );
