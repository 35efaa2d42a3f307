import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Asset {
  contentType: string;
  body: Buffer;
}

/** Every file the page may load, by name; anything else is a 404 (no path ever reaches the disk). */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

/** Read once at start-up: a handful of small files (nest-cli.json copies them next to the build). */
export function loadDashboardAssets(dir = join(__dirname, 'static')): Map<string, Asset> {
  return new Map(
    Object.entries(FILES).map(([name, contentType]) => [
      name,
      { contentType, body: readFileSync(join(dir, name)) },
    ]),
  );
}

/**
 * The page runs only its own script and style, talks only to this origin, and cannot be framed.
 * (helmet's global CSP is off for Swagger UI's sake; this route sets its own.)
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
