import { chromium, type Browser, type Page } from 'playwright-core';
import { RedisServer } from '../support/redis-server';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app';

/** Debian's chromium (installed by .ci/run); never a downloaded browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The built-in dashboard in a real headless Chromium: page served by the API under its strict
 * CSP, token entered by hand, status and charts drawn from the live API, an outage seen and
 * recovered from. DASHBOARD_SCREENSHOT=<file.png> also saves a screenshot (for the docs).
 */
describe('Admin dashboard in a browser', () => {
  let redis: RedisServer;
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    // Rollups reach Redis (and so GET /api/v1/metrics) quickly.
    t = await startTestApp(redis.url, { METRICS_FLUSH_INTERVAL_MS: '200' });
    await t.app.listen(0, '127.0.0.1');
    base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t.close();
    await redis.dispose();
  });

  const status = (component: string) => page.getByTestId(`${component}-status`);
  const waitForStatus = (component: string, value: string, timeout: number) =>
    status(component)
      .filter({ hasText: new RegExp(`^${value}$`) })
      .waitFor({ timeout });

  async function traffic(requests: number): Promise<void> {
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'dashboard-test' })
      .expect(201);
    for (let i = 0; i < requests; i++) {
      await t.http.get(`/api/v1/sessions/${created.body.session_id}`).expect(200);
    }
    await t.http.post('/api/v1/cache/dashboard-test').send({ data: { v: 1 } });
    await t.http.get('/api/v1/cache/dashboard-test').expect(200);
  }

  it('serves the page under a strict CSP, public, with no data before a token is given', async () => {
    const response = await page.goto(`${base}/admin?refresh=1`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    await expect(page.getByTestId('overall-status').textContent()).resolves.toBe('not connected');
    await expect(status('redis').textContent()).resolves.toBe('–');
  });

  it('shows Redis healthy and draws charts once a health:read + metrics:read token is entered', async () => {
    await traffic(30);
    await page.fill('#token', tokenFor({ sub: 'ops-1', roles: ['analyst'] }));
    await page.click('button[type=submit]');

    await waitForStatus('redis', 'healthy', 10_000);
    await expect(page.getByTestId('overall-status').textContent()).resolves.toBe('healthy');
    await expect(status('api').textContent()).resolves.toBe('healthy');
    await expect(status('cache').textContent()).resolves.toBe('healthy');
    await expect(
      page.locator('[data-component="redis"] [data-field="topology"]').textContent(),
    ).resolves.toMatch(/^standalone \(master, 0 replicas\)$/);

    // Latency and throughput charts from GET /api/v1/metrics: this minute's p50/p95/p99.
    await page
      .locator('#chart-latency[data-points]:not([data-points="0"])')
      .waitFor({ timeout: 10_000 });
    expect(await page.locator('#chart-latency path.line').count()).toBe(3);
    expect(
      Number(await page.locator('#chart-throughput').getAttribute('data-points')),
    ).toBeGreaterThan(0);
    await expect(page.getByTestId('metrics-message').textContent()).resolves.toBe('');
    await expect(
      page
        .locator('[data-component="performance"] [data-field="requests_per_second"]')
        .textContent(),
    ).resolves.toMatch(/^\d+\.\d{2}$/);

    // The Redis chart draws a line from successive refreshes.
    await page
      .locator('#chart-redis[data-points]:not([data-points="0"]):not([data-points="1"])')
      .waitFor();
    expect(await page.locator('#chart-redis path.line').count()).toBe(1);
  });

  it('turns unhealthy when Redis stops, and recovers when it is back', async () => {
    await redis.stop();
    await waitForStatus('redis', 'unhealthy', 15_000);
    await expect(page.getByTestId('overall-status').textContent()).resolves.toBe('unhealthy');
    await expect(
      page.locator('[data-component="redis"] .issues li').first().textContent(),
    ).resolves.toMatch(/does not answer/);

    await redis.restart();
    await waitForStatus('redis', 'healthy', 20_000);
    await expect(page.getByTestId('overall-status').textContent()).resolves.toBe('healthy');
  });

  it('ran without script errors or CSP violations', async () => {
    if (process.env.DASHBOARD_SCREENSHOT) {
      await traffic(20);
      await page.waitForTimeout(2500);
      await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });
    }
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('shows a refused token as such instead of a status', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`${base}/admin?refresh=1`);
      await other.fill('#token', tokenFor({ sub: 'agent-1', roles: ['agent'] }));
      await other.click('button[type=submit]');
      await other.locator('#message', { hasText: /needs health:read/ }).waitFor();
      await expect(other.getByTestId('redis-status').textContent()).resolves.toBe('unknown');
    } finally {
      await other.close();
    }
  });
});
