import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOYMENT, run } from './tooling';

const PROMETHEUS = join(DEPLOYMENT, 'monitoring', 'prometheus');
const DASHBOARD = join(
  DEPLOYMENT,
  'monitoring',
  'grafana',
  'dashboards',
  'multi-agent-session-api.json',
);

/** The metric names the API exports (the cross-branch contract), plus Prometheus' own `up`. */
const EXPORTED = [
  'up',
  'masa_http_request_duration_seconds_bucket',
  'masa_http_request_duration_seconds_count',
  'masa_http_requests_total',
  'masa_http_requests_in_flight',
  'masa_redis_up',
  'masa_redis_breaker_state',
  'masa_redis_command_duration_seconds_bucket',
  'masa_redis_memory_used_bytes',
  'masa_redis_memory_max_bytes',
  'masa_cache_operations_total',
  'masa_cache_hit_ratio',
  'masa_sessions_active',
  'masa_sessions_created_total',
  'masa_audit_write_failures_total',
];

/** Metric names used in PromQL text (recording rules `masa:...` are defined in slo.yml). */
function metricNames(promql: string): string[] {
  return [...promql.matchAll(/\b(masa_[a-z_]+|up)\s*[{(]/g)].map((m) => m[1]);
}

describe('Prometheus rules and configuration', () => {
  it('passes promtool check rules', () => {
    const result = run('promtool', ['check', 'rules', 'alerts.yml', 'slo.yml'], PROMETHEUS);
    expect(result.stderr + result.stdout).not.toMatch(/FAILED/);
    expect(result.status).toBe(0);
  });

  it('passes the promtool unit tests of every alert and SLO burn-rate rule', () => {
    const result = run(
      'promtool',
      ['test', 'rules', 'alerts.test.yml', 'slo.test.yml'],
      PROMETHEUS,
    );
    expect(result.stdout + result.stderr).not.toMatch(/FAILED/);
    expect(result.status).toBe(0);
  });

  it('has a test case for every alert', () => {
    const tested =
      readFileSync(join(PROMETHEUS, 'alerts.test.yml'), 'utf8') +
      readFileSync(join(PROMETHEUS, 'slo.test.yml'), 'utf8');
    const alerts = [
      ...(
        readFileSync(join(PROMETHEUS, 'alerts.yml'), 'utf8') +
        readFileSync(join(PROMETHEUS, 'slo.yml'), 'utf8')
      ).matchAll(/- alert: (\w+)/g),
    ].map((m) => m[1]);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    for (const alert of alerts)
      expect(`${alert}: ${tested.includes(`alertname: ${alert}`)}`).toBe(`${alert}: true`);
  });

  it('passes promtool check config (compose scrape config with its token file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'masa-prom-'));
    try {
      for (const file of ['alerts.yml', 'slo.yml'])
        copyFileSync(join(PROMETHEUS, file), join(dir, file));
      writeFileSync(join(dir, 'metrics-token'), 'token');
      writeFileSync(
        join(dir, 'prometheus.yml'),
        readFileSync(join(PROMETHEUS, 'prometheus.yml'), 'utf8').replace(
          '/etc/prometheus/metrics-token',
          join(dir, 'metrics-token'),
        ),
      );
      const result = run('promtool', ['check', 'config', 'prometheus.yml'], dir);
      expect(result.stdout + result.stderr).toMatch(/SUCCESS/);
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('alerts only on metric names the API exports', () => {
    const text =
      readFileSync(join(PROMETHEUS, 'alerts.yml'), 'utf8') +
      readFileSync(join(PROMETHEUS, 'slo.yml'), 'utf8');
    const used = new Set(metricNames(text));
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(EXPORTED).toContain(name);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    panels: { title: string; gridPos: object; targets: { expr: string }[] }[];
  };

  it('charts the alerted signals on exported metrics and the SLO recording rules', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    for (const name of new Set(exprs.flatMap(metricNames))) expect(EXPORTED).toContain(name);
    const all = exprs.join('\n');
    for (const signal of [
      'up{',
      'masa_redis_up',
      'status_class="5xx"',
      'histogram_quantile(0.95',
      'histogram_quantile(0.99',
      'masa_redis_memory_used_bytes',
      'masa_cache_hit_ratio',
      'masa:slo_availability_errors:ratio_rate1h',
      'masa:slo_read_latency_slow:ratio_rate1h',
    ]) {
      expect(all).toContain(signal);
    }
    const recorded = readFileSync(join(PROMETHEUS, 'slo.yml'), 'utf8');
    for (const rule of new Set(all.match(/masa:[a-z_:0-9]+/g)))
      expect(recorded).toContain(`record: ${rule}`);
  });

  it('has a stable uid and a position for every panel', () => {
    expect(dashboard.uid).toBe('masa-overview');
    const ids = dashboard.panels.map((p) => p.title);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels)
      expect(p.gridPos).toEqual(expect.objectContaining({ w: expect.any(Number) }));
  });
});
