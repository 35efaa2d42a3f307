import { ApiProperty } from '@nestjs/swagger';
import { TIMESTAMP } from '../../common/swagger/api-fields';
import { ACTOR_ID_PATTERN } from '../../sessions/dto/session-fields';

/** What DELETE /subjects/{user_id} answers, and what its audit record holds. */
export class ErasureReceiptDto {
  @ApiProperty({
    example: 'user-42',
    description: 'The user id whose data was erased.',
    pattern: ACTOR_ID_PATTERN.source,
    maxLength: 128,
  })
  subject!: string;

  @ApiProperty({ example: 3, description: 'Sessions created by the subject that were deleted.' })
  sessions_deleted!: number;

  @ApiProperty({ example: 7, description: 'Agent memory records of those sessions (cascade).' })
  memory_records_deleted!: number;

  @ApiProperty({
    example: 2,
    description: 'Cache entries tagged user:{user_id} that were deleted.',
  })
  cache_entries_deleted!: number;

  @ApiProperty({ example: '2026-12-02T06:00:00.000Z', ...TIMESTAMP })
  completed_at!: string;
}
