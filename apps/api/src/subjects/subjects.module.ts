import { Module } from '@nestjs/common';
import { SubjectsController } from './subjects.controller';
import { SubjectsService } from './subjects.service';

@Module({ controllers: [SubjectsController], providers: [SubjectsService] })
export class SubjectsModule {}
