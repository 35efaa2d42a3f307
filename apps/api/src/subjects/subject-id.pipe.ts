import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { InvalidRequestError } from '../common/errors/domain-errors';
import { ACTOR_ID_PATTERN, ACTOR_ID_RULE } from '../sessions/dto/session-fields';

/** A subject is named like a session's created_by; anything else is a 400 naming the parameter. */
@Injectable()
export class SubjectIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || !ACTOR_ID_PATTERN.test(value)) {
      throw InvalidRequestError.field(metadata.data ?? 'user_id', ACTOR_ID_RULE);
    }
    return value;
  }
}
