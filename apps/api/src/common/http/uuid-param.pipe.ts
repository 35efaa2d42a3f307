import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { InvalidRequestError } from '../errors/domain-errors';

/** A path id that must be a UUID v4; anything else is a 400 naming the parameter. */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!isUUID(value, '4')) {
      throw InvalidRequestError.field(metadata.data ?? 'id', 'must be a UUID v4');
    }
    return value.toLowerCase();
  }
}
