import { ApiHeader, ApiParam } from '@nestjs/swagger';
import { EXAMPLE_SESSION_ID } from '../../sessions/dto/session-fields';
import { UUID } from './api-fields';

/** Documents the `session_id` path parameter (validated by UuidParamPipe). */
export const ApiSessionIdParam = () =>
  ApiParam({
    name: 'session_id',
    description: 'A UUID v4; anything else is a 400 naming session_id.',
    schema: { type: 'string', ...UUID },
    example: EXAMPLE_SESSION_ID,
  });

/** Documents the optional If-Match header of a versioned write (parseIfMatch). */
export const ApiIfMatchHeader = () =>
  ApiHeader({
    name: 'If-Match',
    required: false,
    description:
      'The ETag (version) you read, e.g. "3", or * for any. A stale one gets 412 and nothing is ' +
      'written; a weak or malformed one is a 400.',
    schema: { type: 'string', pattern: '^(\\*|"\\d{1,15}")$', maxLength: 17 },
  });
