import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { InvalidRequestError } from '../common/errors/domain-errors';
import { CACHE_KEY_PATTERN, CACHE_KEY_RULE, RESERVED_CACHE_KEYS } from './dto/cache-fields';

/** A `:cache_key` path parameter: the key alphabet, and none of the cache API's own path words. */
@Injectable()
export class CacheKeyPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    const field = metadata.data ?? 'cache_key';
    if (!CACHE_KEY_PATTERN.test(value)) throw InvalidRequestError.field(field, CACHE_KEY_RULE);
    if ((RESERVED_CACHE_KEYS as readonly string[]).includes(value)) {
      throw InvalidRequestError.field(
        field,
        `"${value}" is reserved (it names a cache endpoint) and cannot be used as a cache key; ` +
          `reserved: ${RESERVED_CACHE_KEYS.join(', ')}`,
      );
    }
    return value;
  }
}
