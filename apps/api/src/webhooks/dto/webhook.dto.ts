import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsIn,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { EventDto } from '../../events/event-view';
import { EVENT_ID, SUBJECT, TIMESTAMP, UUID, text } from '../../common/swagger/api-fields';
import { EVENT_TYPES } from '../../events/event-types';
import { Optional } from '../../common/validation/optional';

/** Each webhook is one delivery loop per replica: a small bound keeps that work predictable. */
export const MAX_WEBHOOKS_PER_TENANT = 20;

export class CreateWebhookDto {
  @ApiProperty({
    maxLength: 2048,
    example: 'https://orchestrator.example.com/hooks/masa',
    description:
      'http(s) only; refused when it resolves to a loopback, link-local or private address ' +
      '(unless WEBHOOK_ALLOW_PRIVATE=true).',
  })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiProperty({
    enum: EVENT_TYPES,
    isArray: true,
    maxItems: EVENT_TYPES.length,
    example: ['session.created', 'memory.patched'],
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(EVENT_TYPES.length)
  @IsIn(EVENT_TYPES, { each: true })
  event_types!: string[];

  @ApiPropertyOptional({
    minLength: 16,
    maxLength: 256,
    description:
      'Signing secret (16-256 characters). Omitted: one is generated. Returned only in this response.',
  })
  @Optional()
  @IsString()
  @MinLength(16)
  @MaxLength(256)
  secret?: string;
}

export class WebhookDto {
  @ApiProperty(UUID)
  webhook_id!: string;

  @ApiProperty({ maxLength: 2048 })
  url!: string;

  @ApiProperty({ enum: EVENT_TYPES, isArray: true, maxItems: EVENT_TYPES.length })
  event_types!: string[];

  @ApiProperty({ ...TIMESTAMP, example: '2026-12-02T06:00:00.000Z' })
  created_at!: string;

  @ApiProperty({ ...SUBJECT, example: 'admin-1' })
  created_by!: string;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({ maxLength: 256, description: 'The signing secret; never returned again.' })
  secret!: string;
}

export class WebhookListDto {
  @ApiProperty({
    type: [WebhookDto],
    maxItems: MAX_WEBHOOKS_PER_TENANT,
    description: `At most ${MAX_WEBHOOKS_PER_TENANT} per tenant.`,
  })
  webhooks!: WebhookDto[];
}

export class DeletedWebhookDto {
  @ApiProperty(UUID)
  webhook_id!: string;

  @ApiProperty({ example: true })
  deleted!: boolean;
}

export class ParkedDeliveryDto {
  @ApiProperty({
    ...EVENT_ID,
    example: '1764662400000-0',
    description: 'The event id; sent as Webhook-Id.',
  })
  delivery_id!: string;

  @ApiProperty({ type: EventDto })
  event!: EventDto;

  @ApiProperty({ example: 6 })
  attempts!: number;

  @ApiProperty({ ...text(512), example: 'HTTP 500' })
  last_error!: string;

  @ApiProperty({ ...TIMESTAMP, example: '2026-12-02T06:00:00.000Z' })
  parked_at!: string;
}

export class ParkedDeliveryListDto {
  @ApiProperty({
    type: [ParkedDeliveryDto],
    maxItems: 100,
    description: 'Oldest first, at most 100.',
  })
  deliveries!: ParkedDeliveryDto[];
}

export class RedeliveryDto {
  @ApiProperty({ ...EVENT_ID, example: '1764662400000-0' })
  delivery_id!: string;

  @ApiProperty({ enum: ['queued'], example: 'queued' })
  status!: string;
}
