import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { AGENT_ID_PATTERN, AGENT_ID_RULE } from '@app/redis';
import { InvalidRequestError } from '../common/errors/domain-errors';

/** A path agent id; anything else is a 400 naming the parameter. */
@Injectable()
export class AgentIdParamPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || !AGENT_ID_PATTERN.test(value)) {
      throw InvalidRequestError.field(metadata.data ?? 'agent_id', AGENT_ID_RULE);
    }
    return value;
  }
}
