import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { Tenant } from '../common/http/tenant.decorator';
import { UuidParamPipe } from '../common/http/uuid-param.pipe';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { EVENT_ID, UUID } from '../common/swagger/api-fields';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  DeletedWebhookDto,
  ParkedDeliveryListDto,
  RedeliveryDto,
  WebhookListDto,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

/** Documents the `webhook_id` path parameter (validated by UuidParamPipe). */
const ApiWebhookIdParam = () =>
  ApiParam({
    name: 'webhook_id',
    description: 'A UUID v4; anything else is a 400 naming webhook_id.',
    schema: { type: 'string', ...UUID },
  });

@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'Register a webhook',
    description:
      'Each matching change is POSTed as the event JSON, signed: `Webhook-Signature: ' +
      'v1=<hex HMAC-SHA256(secret, "<Webhook-Timestamp>.<body>")>`, `Webhook-Id` = event id. ' +
      'Retried with exponential backoff and jitter, then parked (see deliveries).',
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiProblems(400)
  create(
    @Tenant() tenant: string,
    @Body() body: CreateWebhookDto,
    @CurrentPrincipal() caller: Principal | undefined,
  ): Promise<CreatedWebhookDto> {
    return this.webhooks.create(tenant, body, caller);
  }

  @Get()
  @RequirePermissions('webhooks:manage')
  @ApiOperation({ summary: "List the tenant's webhooks (secrets are never returned)" })
  @ApiOkResponse({ type: WebhookListDto })
  list(@Tenant() tenant: string): Promise<WebhookListDto> {
    return this.webhooks.list(tenant);
  }

  @Delete(':webhook_id')
  @RequirePermissions('webhooks:manage')
  @ApiOperation({ summary: 'Delete a webhook with its delivery state' })
  @ApiWebhookIdParam()
  @ApiOkResponse({ type: DeletedWebhookDto })
  @ApiProblems(400, 404)
  delete(
    @Tenant() tenant: string,
    @Param('webhook_id', UuidParamPipe) webhookId: string,
  ): Promise<DeletedWebhookDto> {
    return this.webhooks.delete(tenant, webhookId);
  }

  @Get(':webhook_id/deliveries')
  @RequirePermissions('webhooks:manage')
  @ApiOperation({ summary: 'Parked deliveries (the dead-letter list), oldest first' })
  @ApiWebhookIdParam()
  @ApiOkResponse({ type: ParkedDeliveryListDto })
  @ApiProblems(400, 404)
  deliveries(
    @Tenant() tenant: string,
    @Param('webhook_id', UuidParamPipe) webhookId: string,
  ): Promise<ParkedDeliveryListDto> {
    return this.webhooks.deliveries(tenant, webhookId);
  }

  @Post(':webhook_id/deliveries/:delivery_id/redeliver')
  @HttpCode(202)
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'Send a parked delivery again',
    description: 'Queued for the next delivery pass; delivered, it leaves the dead-letter list.',
  })
  @ApiParam({
    name: 'delivery_id',
    example: '1764662400000-0',
    schema: { type: 'string', ...EVENT_ID },
  })
  @ApiWebhookIdParam()
  @ApiAcceptedResponse({ type: RedeliveryDto })
  @ApiProblems(400, 404)
  redeliver(
    @Tenant() tenant: string,
    @Param('webhook_id', UuidParamPipe) webhookId: string,
    @Param('delivery_id') deliveryId: string,
  ): Promise<RedeliveryDto> {
    return this.webhooks.redeliver(tenant, webhookId, deliveryId);
  }
}
