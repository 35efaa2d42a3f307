import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  EVENT_ID_PATTERN,
  EventsRepository,
  WebhookRepository,
  type StoredWebhook,
} from '@app/redis';
import type { Principal } from '../auth/principal';
import { InvalidRequestError, ResourceNotFoundError } from '../common/errors/domain-errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { EventDto } from '../events/event-view';
import type {
  CreatedWebhookDto,
  CreateWebhookDto,
  DeletedWebhookDto,
  ParkedDeliveryListDto,
  RedeliveryDto,
  WebhookDto,
  WebhookListDto,
} from './dto/webhook.dto';
import { MAX_WEBHOOKS_PER_TENANT } from './dto/webhook.dto';
import { refusalOf } from './webhook-url';

/** Bounds each delivery pass (every webhook is visited by every replica's worker). */
const PARKED_PAGE = 100;

@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly events: EventsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(
    tenant: string,
    body: CreateWebhookDto,
    caller: Principal | undefined,
  ): Promise<CreatedWebhookDto> {
    const refusal = await refusalOf(body.url, this.config.webhooks.allowPrivate);
    if (refusal !== null) throw InvalidRequestError.field('url', refusal);
    if ((await this.webhooks.list(tenant)).length >= MAX_WEBHOOKS_PER_TENANT) {
      throw InvalidRequestError.field(
        'url',
        `a tenant has at most ${MAX_WEBHOOKS_PER_TENANT} webhooks; delete one first`,
      );
    }
    const webhook: StoredWebhook = {
      id: randomUUID(),
      url: body.url,
      eventTypes: [...new Set(body.event_types)],
      secret: body.secret ?? randomBytes(32).toString('base64url'),
      createdAt: Date.now(),
      createdBy: caller?.sub ?? 'anonymous',
    };
    // Deliveries start with the changes after the webhook exists.
    const { last } = await this.events.bounds(tenant);
    await this.webhooks.create(tenant, webhook, last);
    return { ...view(webhook), secret: webhook.secret };
  }

  async list(tenant: string): Promise<WebhookListDto> {
    return { webhooks: (await this.webhooks.list(tenant)).map(view) };
  }

  async delete(tenant: string, webhookId: string): Promise<DeletedWebhookDto> {
    if (!(await this.webhooks.delete(tenant, webhookId))) {
      throw new ResourceNotFoundError('webhook', webhookId);
    }
    return { webhook_id: webhookId, deleted: true };
  }

  async deliveries(tenant: string, webhookId: string): Promise<ParkedDeliveryListDto> {
    await this.mustExist(tenant, webhookId);
    const parked = await this.webhooks.parked(tenant, webhookId, PARKED_PAGE);
    return {
      deliveries: parked.map((delivery) => ({
        delivery_id: delivery.deliveryId,
        event: JSON.parse(delivery.body) as EventDto,
        attempts: delivery.attempts,
        last_error: delivery.lastError,
        parked_at: new Date(delivery.parkedAt).toISOString(),
      })),
    };
  }

  async redeliver(tenant: string, webhookId: string, deliveryId: string): Promise<RedeliveryDto> {
    if (!EVENT_ID_PATTERN.test(deliveryId)) {
      throw InvalidRequestError.field('delivery_id', 'must be a delivery id like 1764662400000-0');
    }
    await this.mustExist(tenant, webhookId);
    if ((await this.webhooks.parkedOne(tenant, webhookId, deliveryId)) === null) {
      throw new ResourceNotFoundError('parked delivery', deliveryId);
    }
    await this.webhooks.queueRedelivery(tenant, webhookId, deliveryId);
    return { delivery_id: deliveryId, status: 'queued' };
  }

  private async mustExist(tenant: string, webhookId: string): Promise<void> {
    const all = await this.webhooks.list(tenant);
    if (!all.some((webhook) => webhook.id === webhookId)) {
      throw new ResourceNotFoundError('webhook', webhookId);
    }
  }
}

function view(webhook: StoredWebhook): WebhookDto {
  return {
    webhook_id: webhook.id,
    url: webhook.url,
    event_types: webhook.eventTypes,
    created_at: new Date(webhook.createdAt).toISOString(),
    created_by: webhook.createdBy,
  };
}
