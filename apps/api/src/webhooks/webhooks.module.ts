import { Module } from '@nestjs/common';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Webhooks: registration (admin) and the per-replica delivery worker. */
@Module({
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookDeliverer],
})
export class WebhooksModule {}
