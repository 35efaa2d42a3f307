import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/require-permissions.decorator';
import { DASHBOARD_CSP, loadDashboardAssets, type Asset } from './dashboard-assets';

/**
 * The built-in operations dashboard: a static page, public because it holds no data. Its script
 * asks for a token and calls /api/v1/health/detailed and /api/v1/metrics with it.
 */
@ApiTags('dashboard')
@Controller('admin')
export class DashboardController {
  private readonly assets = loadDashboardAssets();

  @Get()
  @Public()
  @Header('Content-Security-Policy', DASHBOARD_CSP)
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: 'Operations dashboard (HTML page; data calls need a token)' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The dashboard page.' })
  page(@Res() reply: FastifyReply): void {
    this.send(reply, this.assets.get('index.html'));
  }

  @Get('assets/:file')
  @Public()
  @Header('Content-Security-Policy', DASHBOARD_CSP)
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: "The dashboard's script and stylesheet" })
  @ApiParam({ name: 'file', enum: ['dashboard.js', 'dashboard.css'] })
  @ApiProduces('text/javascript', 'text/css')
  @ApiOkResponse({ description: 'The file.' })
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    if (file === 'index.html') throw new NotFoundException();
    this.send(reply, this.assets.get(file));
  }

  private send(reply: FastifyReply, asset: Asset | undefined): void {
    if (!asset) throw new NotFoundException();
    void reply.type(asset.contentType).send(asset.body);
  }
}
