import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsUUID,
  ValidateNested,
} from 'class-validator';
import { CreateSessionDto } from './create-session.dto';
import { EXAMPLE_SESSION_ID, MAX_BATCH_SIZE } from './session-fields';

export class BatchCreateSessionsDto {
  @ApiProperty({ type: [CreateSessionDto], minItems: 1, maxItems: MAX_BATCH_SIZE })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_SIZE)
  @ValidateNested({ each: true })
  @Type(() => CreateSessionDto)
  sessions!: CreateSessionDto[];
}

export class SessionIdsDto {
  @ApiProperty({
    type: [String],
    format: 'uuid',
    maxLength: 36,
    example: [EXAMPLE_SESSION_ID],
    minItems: 1,
    maxItems: MAX_BATCH_SIZE,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_SIZE)
  @ArrayUnique()
  @IsUUID('4', { each: true, message: 'each value in session_ids must be a UUID v4' })
  session_ids!: string[];
}
