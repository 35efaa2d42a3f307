import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEPLOYMENT, ROOT, run } from './tooling';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [field: string]: unknown;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- walking untyped manifests */
function build(overlay: string): Manifest[] {
  const result = run('kubectl', ['kustomize', join(DEPLOYMENT, 'kubernetes', 'overlays', overlay)]);
  if (result.status !== 0)
    throw new Error(`kubectl kustomize ${overlay} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout).map((doc) => doc.toJSON() as Manifest);
}

const find = (manifests: Manifest[], kind: string, name = 'multi-agent-session-api'): any => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name}`);
  return found;
};

const API_LABEL = { 'app.kubernetes.io/name': 'multi-agent-session-api' };

describe.each([
  ['development', { namespace: 'masa-dev', replicas: 1, hpa: [1, 2], appEnv: 'development' }],
  ['staging', { namespace: 'masa-staging', replicas: 2, hpa: [2, 6], appEnv: 'staging' }],
  ['production', { namespace: 'masa-production', replicas: 3, hpa: [3, 10], appEnv: 'production' }],
] as const)('kubectl kustomize overlays/%s', (overlay, expected) => {
  let manifests: Manifest[];
  let deployment: any;
  let container: any;

  beforeAll(() => {
    manifests = build(overlay);
    deployment = find(manifests, 'Deployment');
    container = deployment.spec.template.spec.containers[0];
  });

  it('builds every object into the overlay namespace', () => {
    const kinds = manifests.map((m) => m.kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace',
        'ServiceAccount',
        'ConfigMap',
        'Deployment',
        'Service',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
        'NetworkPolicy',
        'ServiceMonitor',
        'PrometheusRule',
      ]),
    );
    for (const m of manifests.filter((m) => m.kind !== 'Namespace')) {
      expect(`${m.kind}/${m.metadata.name} in ${m.metadata.namespace}`).toBe(
        `${m.kind}/${m.metadata.name} in ${expected.namespace}`,
      );
    }
    expect(find(manifests, 'Namespace', expected.namespace).metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
  });

  it('probes startup and liveness on /health/live and readiness on /health/ready', () => {
    expect(container.startupProbe.httpGet.path).toBe('/api/v1/health/live');
    expect(container.livenessProbe.httpGet.path).toBe('/api/v1/health/live');
    expect(container.readinessProbe.httpGet.path).toBe('/api/v1/health/ready');
    // Readiness answers within its 1 s PING budget, inside the probe's timeout.
    expect(container.readinessProbe.timeoutSeconds).toBeGreaterThanOrEqual(2);
  });

  it('runs non-root, read-only, without capabilities or a service account token', () => {
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.requests).toEqual(
      expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
    );
    expect(container.resources.limits.memory).toEqual(expect.any(String));
  });

  it('fits preStop + the shutdown bound inside terminationGracePeriodSeconds', () => {
    const config = find(manifests, 'ConfigMap').data as Record<string, string>;
    const preStop = container.lifecycle.preStop.exec.command as string[];
    expect(preStop[0]).toBe('sleep');
    const budget = Number(preStop[1]) + Number(config.SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(budget).toBeLessThan(deployment.spec.template.spec.terminationGracePeriodSeconds);
    expect(Number(config.SHUTDOWN_DELAY_MS)).toBeLessThan(Number(config.SHUTDOWN_TIMEOUT_MS));
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'multi-agent-session-api' } }]);
    expect(config.APP_ENV).toBe(expected.appEnv);
  });

  it('scales within the overlay bounds and never drains more than it can spare', () => {
    expect(deployment.spec.replicas).toBe(expected.replicas);
    const hpa = find(manifests, 'HorizontalPodAutoscaler');
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual(expected.hpa);
    expect(hpa.spec.scaleTargetRef).toMatchObject({
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(deployment.spec.strategy.rollingUpdate).toMatchObject({ maxUnavailable: 0 });
    const pdb = find(manifests, 'PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toMatchObject(API_LABEL);
  });

  it('selects the API pods (and only them) from the Service, NetworkPolicy and ServiceMonitor', () => {
    const podLabels = deployment.spec.template.metadata.labels;
    const service = find(manifests, 'Service');
    expect(podLabels).toMatchObject(service.spec.selector);
    expect(podLabels).toMatchObject(find(manifests, 'NetworkPolicy').spec.podSelector.matchLabels);
    for (const other of manifests.filter((m) => m.kind === 'Deployment' && m !== deployment)) {
      expect((other as any).spec.template.metadata.labels).not.toMatchObject(service.spec.selector);
    }
    const monitor = find(manifests, 'ServiceMonitor');
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
  });

  it('scrapes /metrics with the METRICS_TOKEN bearer from the same Secret key as the pods', () => {
    const endpoint = find(manifests, 'ServiceMonitor').spec.endpoints[0];
    expect(endpoint).toMatchObject({
      port: 'http',
      path: '/metrics',
      authorization: {
        type: 'Bearer',
        credentials: { name: 'multi-agent-session-api', key: 'metrics-token' },
      },
    });
    const env = container.env.find((e: any) => e.name === 'METRICS_TOKEN');
    expect(env.valueFrom.secretKeyRef).toEqual({
      name: 'multi-agent-session-api',
      key: 'metrics-token',
    });
  });

  it('sets exactly one token verification key', () => {
    const names = (container.env as { name: string }[]).map((e) => e.name);
    const keys = names.filter((n) => ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URI'].includes(n));
    expect(keys).toEqual([overlay === 'development' ? 'JWT_SECRET' : 'JWT_JWKS_URI']);
    expect(names).toContain('REDIS_URL');
  });
});

describe('development overlay', () => {
  it('brings its own Redis with AOF and noeviction, and generates the Secret', () => {
    const manifests = build('development');
    const redis = find(manifests, 'Deployment', 'redis');
    const args = redis.spec.template.spec.containers[0].args as string[];
    expect(args.join(' ')).toMatch(/--appendonly yes/);
    expect(args.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    const secret = find(manifests, 'Secret');
    expect(Object.keys(secret.data).sort()).toEqual(['jwt-secret', 'metrics-token', 'redis-url']);
  });
});

describe('PrometheusRule', () => {
  it('is generated from deployment/monitoring/prometheus (not edited by hand)', () => {
    const result = run('node', [join(ROOT, 'scripts', 'sync-prometheus-rule.js'), '--check']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('leaves the Secret template out of every build', () => {
    const template = readFileSync(
      join(DEPLOYMENT, 'kubernetes', 'base', 'secret.template.yaml'),
      'utf8',
    );
    expect(template).toMatch(/TEMPLATE/);
    for (const overlay of ['staging', 'production']) {
      expect(build(overlay).some((m) => m.kind === 'Secret')).toBe(false);
    }
  });
});
