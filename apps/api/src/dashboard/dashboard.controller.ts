import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/require-permissions.decorator';
import { ApiProblem } from '../common/swagger/api-problems.decorator';
import { DASHBOARD_CSP, loadDashboardAssets, type Asset } from './dashboard-assets';

/** The built-in files are a few KiB; the bound only says they are small. */
const DASHBOARD_FILE = { type: 'string', maxLength: 1024 * 1024 };

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
  @ApiOperation({
    summary: 'Operations dashboard (HTML page; data calls need a token)',
    description: 'A static page with a strict Content-Security-Policy; it holds no data itself.',
  })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The dashboard page.', schema: DASHBOARD_FILE })
  page(@Res() reply: FastifyReply): void {
    this.send(reply, this.assets.get('index.html'));
  }

  @Get('assets/:file')
  @Public()
  @Header('Content-Security-Policy', DASHBOARD_CSP)
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({
    summary: "The dashboard's script and stylesheet",
    description: 'Only the two files named here are served; anything else is a 404.',
  })
  @ApiParam({ name: 'file', enum: ['dashboard.js', 'dashboard.css'] })
  @ApiProduces('text/javascript', 'text/css')
  @ApiOkResponse({ description: 'The file.', schema: DASHBOARD_FILE })
  @ApiProblem(404, 'No such dashboard file.')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    if (file === 'index.html') throw new NotFoundException();
    this.send(reply, this.assets.get(file));
  }

  private send(reply: FastifyReply, asset: Asset | undefined): void {
    if (!asset) throw new NotFoundException();
    void reply.type(asset.contentType).send(asset.body);
  }
}
