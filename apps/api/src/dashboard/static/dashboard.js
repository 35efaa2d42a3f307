// Operations dashboard: plain browser JavaScript, served by the API itself (no CDN, no build
// step). Reads GET /api/v1/health/detailed (health:read) and GET /api/v1/metrics (metrics:read)
// with the token the operator enters; the token stays in this tab's sessionStorage.
(function () {
  'use strict';

  const TOKEN_KEY = 'masa-dashboard-token';
  const HISTORY = 120; // health samples kept for the Redis chart
  const SVG = 'http://www.w3.org/2000/svg';
  const params = new URLSearchParams(window.location.search);
  const intervalSeconds = Math.max(1, Number(params.get('refresh')) || 5);

  const $ = (selector, root) => (root || document).querySelector(selector);
  const redisHistory = [];
  let timer;

  function token() {
    return window.sessionStorage.getItem(TOKEN_KEY);
  }

  function setMessage(text, isError) {
    const el = $('#message');
    el.textContent = text;
    el.className = isError ? 'error' : '';
  }

  function badge(el, status) {
    const value = status || 'unknown';
    el.textContent = value;
    el.className =
      'badge ' + (['healthy', 'degraded', 'unhealthy'].includes(value) ? value : 'unknown');
  }

  function field(component, name, text) {
    const el = $('[data-component="' + component + '"] [data-field="' + name + '"]');
    if (el) el.textContent = text === undefined || text === null ? '–' : String(text);
  }

  function issues(component, list) {
    const ul = $('[data-component="' + component + '"] .issues');
    ul.replaceChildren();
    for (const issue of list || []) {
      const li = document.createElement('li');
      li.textContent = issue;
      ul.appendChild(li);
    }
  }

  function bytes(n) {
    if (n === undefined || n === null) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return value.toFixed(unit === 0 ? 0 : 1) + ' ' + units[unit];
  }

  const ms = (n) => (typeof n === 'number' ? n.toFixed(n < 10 ? 2 : 0) + ' ms' : '–');
  const percent = (n) => (typeof n === 'number' ? (n * 100).toFixed(2) + ' %' : '–');

  function duration(seconds) {
    const d = Math.floor(seconds / 86400);
    const h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm';
  }

  async function get(path) {
    const response = await fetch(path, {
      headers: { Authorization: 'Bearer ' + token(), Accept: 'application/json' },
      cache: 'no-store',
    });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return { status: response.status, body };
  }

  function renderHealth(report) {
    badge($('#overall'), report.status);
    const redis = report.components.redis;
    const api = report.components.api;
    const cache = report.components.cache;

    badge($('[data-testid="redis-status"]'), redis.status);
    field('redis', 'response_time_ms', ms(redis.response_time_ms));
    field(
      'redis',
      'memory',
      redis.used_memory_bytes === undefined
        ? '–'
        : bytes(redis.used_memory_bytes) +
            ' / ' +
            (redis.max_memory_bytes ? bytes(redis.max_memory_bytes) : 'no limit'),
    );
    field('redis', 'connected_clients', redis.connected_clients);
    const topology = redis.topology;
    field(
      'redis',
      'topology',
      topology
        ? topology.mode +
            (topology.mode === 'cluster'
              ? ' (' + topology.masters + ' masters, state ' + topology.cluster_state + ')'
              : ' (' + redis.role + ', ' + topology.connected_replicas + ' replicas)')
        : '–',
    );
    issues('redis', redis.issues);

    badge($('[data-testid="api-status"]'), api.status);
    field('api', 'version', report.version);
    field('api', 'uptime', duration(api.uptime_seconds));
    field('api', 'in_flight_requests', api.in_flight_requests);
    field('api', 'event_loop_delay_p99_ms', ms(api.event_loop_delay_p99_ms));
    issues('api', api.issues);

    badge($('[data-testid="cache-status"]'), cache.status);
    field(
      'cache',
      'hit_ratio',
      typeof cache.hit_ratio === 'number' ? percent(cache.hit_ratio) : 'no lookups yet',
    );
    field('cache', 'eviction_policy', cache.eviction_policy);
    field('cache', 'evicted_keys', cache.evicted_keys);
    issues('cache', cache.issues);

    const perf = report.performance_metrics;
    field('performance', 'requests_per_second', perf ? perf.requests_per_second.toFixed(2) : null);
    field(
      'performance',
      'latency',
      perf ? ms(perf.avg_response_time_ms) + ' / ' + ms(perf.p95_response_time_ms) : null,
    );
    field('performance', 'error_rate', perf ? percent(perf.error_rate) : null);
    field('performance', 'reason', perf ? '' : report.performance_metrics_reason || '');
  }

  function renderUnreachable(text) {
    badge($('#overall'), 'unhealthy');
    for (const component of ['redis', 'api', 'cache']) {
      badge($('[data-testid="' + component + '-status"]'), 'unknown');
    }
    setMessage(text, true);
  }

  /** A line chart: series = [{ name, points: [[timeMs, value|null]] }]. */
  function chart(svg, series, format) {
    const width = 480;
    const height = 160;
    const left = 44;
    const bottom = 18;
    const top = 14;
    svg.replaceChildren();
    const all = series.flatMap((s) => s.points.filter((p) => typeof p[1] === 'number'));
    svg.setAttribute('data-points', String(all.length));
    const add = (name, attrs, text) => {
      const el = document.createElementNS(SVG, name);
      for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
      if (text !== undefined) el.textContent = text;
      svg.appendChild(el);
      return el;
    };
    add('line', { class: 'axis', x1: left, y1: height - bottom, x2: width, y2: height - bottom });
    add('line', { class: 'axis', x1: left, y1: top, x2: left, y2: height - bottom });
    if (all.length === 0) {
      add('text', { x: left + 10, y: height / 2 }, 'no data yet');
      return;
    }
    // The time axis spans every period reported (empty ones too), so one busy minute sits at its
    // place in the hour instead of filling the chart.
    const xs = series.flatMap((s) => s.points.map((p) => p[0]));
    const minX = Math.min(...xs);
    const maxX = Math.max(...xs, minX + 1);
    const maxY = Math.max(...all.map((p) => p[1]), 1e-9) * 1.1;
    const x = (t) => left + ((t - minX) / (maxX - minX)) * (width - left - 4);
    const y = (v) => height - bottom - (v / maxY) * (height - bottom - top);
    add('text', { x: 2, y: top + 4 }, format(maxY));
    add('text', { x: 2, y: height - bottom }, format(0));
    add('text', { x: left, y: height - 4 }, new Date(minX).toLocaleTimeString());
    add('text', { x: width - 60, y: height - 4 }, new Date(maxX).toLocaleTimeString());
    series.forEach((s, i) => {
      const points = s.points.filter((p) => typeof p[1] === 'number');
      if (points.length === 0) return;
      const d = points
        .map((p, j) => (j === 0 ? 'M' : 'L') + x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1))
        .join(' ');
      add('path', { class: 'line s' + i, d });
      // A lone point has no line to show it: mark sparse series with dots.
      for (const p of points.length <= 3 ? points : []) {
        add('circle', { class: 'dot s' + i, cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2 });
      }
      add('text', { class: 'legend s' + i, x: left + 8 + i * 60, y: top - 2 }, s.name);
    });
  }

  function renderMetrics(report) {
    const points = report.metrics.map((m) => ({ ...m, t: Date.parse(m.timestamp) }));
    const series = (name, key) => ({ name, points: points.map((p) => [p.t, p[key]]) });
    chart(
      $('#chart-latency'),
      [series('p50', 'p50_ms'), series('p95', 'p95_ms'), series('p99', 'p99_ms')],
      (v) => v.toFixed(1),
    );
    chart($('#chart-throughput'), [series('req/s', 'requests_per_second')], (v) => v.toFixed(1));
    chart($('#chart-errors'), [series('5xx', 'error_rate')], (v) => (v * 100).toFixed(1) + '%');
    $('#metrics-message').textContent = '';
  }

  async function refresh() {
    if (!token()) return;
    try {
      const health = await get('/api/v1/health/detailed');
      if (health.status === 401 || health.status === 403) {
        renderUnreachable(
          'The token was refused for GET /api/v1/health/detailed (' +
            health.status +
            '): it needs health:read.',
        );
      } else if (health.body && health.body.components) {
        renderHealth(health.body);
        const redis = health.body.components.redis;
        redisHistory.push([
          Date.now(),
          redis.status === 'unhealthy' ? null : redis.response_time_ms,
        ]);
        if (redisHistory.length > HISTORY) redisHistory.shift();
        chart($('#chart-redis'), [{ name: 'PING', points: redisHistory }], (v) => v.toFixed(1));
        setMessage('Connected.', false);
      } else {
        renderUnreachable('Unexpected answer from /api/v1/health/detailed: HTTP ' + health.status);
      }
    } catch (error) {
      renderUnreachable('The API does not answer: ' + error.message);
    }
    try {
      const metrics = await get('/api/v1/metrics?time_range=1h');
      if (metrics.status === 200 && metrics.body && Array.isArray(metrics.body.metrics)) {
        renderMetrics(metrics.body);
      } else {
        renderMetrics({ metrics: [] });
        $('#metrics-message').textContent =
          'GET /api/v1/metrics answered ' +
          metrics.status +
          (metrics.status === 403 ? ' (the token needs metrics:read)' : '');
      }
    } catch (error) {
      renderMetrics({ metrics: [] });
      $('#metrics-message').textContent = 'GET /api/v1/metrics failed: ' + error.message;
    }
    $('#updated').textContent = new Date().toLocaleTimeString();
  }

  function start() {
    window.clearInterval(timer);
    $('#interval').textContent = String(intervalSeconds);
    void refresh();
    timer = window.setInterval(() => void refresh(), intervalSeconds * 1000);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('#token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const value = $('#token')
        .value.trim()
        .replace(/^Bearer\s+/i, '');
      if (!value) return;
      window.sessionStorage.setItem(TOKEN_KEY, value);
      $('#token').value = '';
      setMessage('Connecting…', false);
      start();
    });
    $('#disconnect').addEventListener('click', () => {
      window.sessionStorage.removeItem(TOKEN_KEY);
      window.clearInterval(timer);
      badge($('#overall'), 'unknown');
      $('#overall').textContent = 'not connected';
      setMessage('Token forgotten.', false);
    });
    if (token()) start();
  });
})();
