import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { DEPLOYMENT, ROOT } from './tooling';

/*
 * No Docker engine runs on these machines: the Dockerfile and the compose file are checked
 * statically here (what they reference exists; the properties the issue asks for hold).
 */
const DOCKER = join(DEPLOYMENT, 'docker');

describe('deployment/docker/Dockerfile', () => {
  const text = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => !l.startsWith('#'));
  const stages = text.split(/^FROM /m).slice(1);

  it('pins its base image to an exact release, never a floating tag', () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1] ?? '';
    expect(base).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
    for (const from of lines.filter((l) => l.startsWith('FROM ')))
      expect(from).toMatch(/^FROM \$\{NODE_IMAGE\} AS \w+$/);
  });

  it('is multi-stage, installing only production dependencies in the last stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const last = stages[stages.length - 1];
    expect(last).toMatch(/RUN npm ci --omit=dev/);
    expect(last).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(last).not.toMatch(/npm run build/);
  });

  it('runs as a non-root user, with a HEALTHCHECK on the liveness probe', () => {
    const last = stages[stages.length - 1];
    expect(last).toMatch(/^USER 1000:1000$/m);
    expect(last).toMatch(/^HEALTHCHECK .*\n.*\/api\/v1\/health\/live/m);
    expect(last).toMatch(/^CMD \["node", "dist\/apps\/api\/apps\/api\/src\/main.js"\]$/m);
  });

  it('copies only paths that exist in the repository, and the entry point the build produces', () => {
    const sources = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      m[1].split(' '),
    );
    for (const source of sources)
      expect(`${source}: ${existsSync(join(ROOT, source))}`).toBe(`${source}: true`);
    expect(existsSync(join(ROOT, 'apps', 'api', 'src', 'main.ts'))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['start:prod']).toBe('node dist/apps/api/apps/api/src/main.js');
  });

  it('keeps secrets and build output out of the context', () => {
    const ignore = readFileSync(join(DOCKER, 'Dockerfile.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.git', '.env', '.data', 'node_modules', 'dist'])
      expect(ignore).toContain(entry);
  });
});

describe('deployment/docker/docker-compose.yml', () => {
  const compose = parse(readFileSync(join(DOCKER, 'docker-compose.yml'), 'utf8')) as {
    services: Record<
      string,
      {
        command?: string[];
        volumes?: string[];
        build?: { context: string; dockerfile: string };
        environment?: Record<string, string>;
        depends_on?: unknown;
      }
    >;
  };

  it('runs the API, Redis, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'grafana', 'prometheus', 'redis']);
  });

  it('builds the API from the Dockerfile and points it at the compose Redis', () => {
    const api = compose.services.api;
    const context = resolve(DOCKER, api.build!.context);
    expect(context).toBe(ROOT);
    expect(existsSync(join(context, api.build!.dockerfile))).toBe(true);
    expect(api.environment).toMatchObject({ REDIS_URL: 'redis://redis:6379' });
    expect(api.depends_on).toMatchObject({ redis: { condition: 'service_healthy' } });
  });

  it('persists Redis with AOF and never evicts', () => {
    const command = compose.services.redis.command!.join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it('mounts monitoring files that exist', () => {
    const mounts = ['prometheus', 'grafana'].flatMap((s) => compose.services[s].volumes ?? []);
    const files = mounts
      .filter((m) => m.startsWith('../'))
      .map((m) => resolve(DOCKER, m.split(':')[0]));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) expect(`${file}: ${existsSync(file)}`).toBe(`${file}: true`);
  });
});
