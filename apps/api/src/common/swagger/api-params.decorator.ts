import { ApiHeader, ApiParam } from '@nestjs/swagger';
import { EXAMPLE_SESSION_ID } from '../../sessions/dto/session-fields';

/** Documents the `session_id` path parameter (validated by UuidParamPipe). */
export const ApiSessionIdParam = () =>
  ApiParam({ name: 'session_id', format: 'uuid', example: EXAMPLE_SESSION_ID });

/** Documents the optional If-Match header of a versioned write. */
export const ApiIfMatchHeader = () =>
  ApiHeader({
    name: 'If-Match',
    required: false,
    description:
      'The ETag (version) you read, e.g. "3". A stale one gets 412 and nothing is written.',
  });
