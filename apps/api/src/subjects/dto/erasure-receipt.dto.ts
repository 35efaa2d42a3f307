import { ApiProperty } from '@nestjs/swagger';

/** What DELETE /subjects/{user_id} answers, and what its audit record holds. */
export class ErasureReceiptDto {
  @ApiProperty({ example: 'user-42', description: 'The user id whose data was erased.' })
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

  @ApiProperty({ example: '2026-12-02T06:00:00.000Z', format: 'date-time' })
  completed_at!: string;
}
