import { Module } from '@nestjs/common';
import { MaintenanceController } from './maintenance.controller';

/** Admin maintenance operations (re-encryption after a key rotation). */
@Module({ controllers: [MaintenanceController] })
export class MaintenanceModule {}
