import { register } from 'prom-client';
import { StoreMetricsObserver } from './store-metrics';

describe('StoreMetricsObserver circuit breaker series', () => {
  beforeEach(() => register.resetMetrics());

  it('labels a Cluster node breaker by node only, and drops its gauge when the node is gone', async () => {
    const observer = new StoreMetricsObserver();
    observer.breakerTransition('closed', 'open', 'main', '10.0.0.7:6379');
    observer.breakerTransition('closed', 'open', 'main');
    let text = await register.metrics();
    // No `client` label: RedisBreakerOpen (client="") pages for it as for the main client.
    expect(text).toMatch(/^masa_redis_breaker_state\{node="10\.0\.0\.7:6379"\} 2$/m);
    expect(text).toMatch(/^masa_redis_breaker_state 2$/m);
    expect(text).toMatch(
      /^masa_redis_breaker_transitions_total\{from="closed",to="open",node="10\.0\.0\.7:6379"\} 1$/m,
    );

    observer.breakerGone('main', '10.0.0.7:6379');
    text = await register.metrics();
    expect(text).not.toMatch(/^masa_redis_breaker_state\{node="10\.0\.0\.7:6379"\}/m);
    expect(text).toMatch(/^masa_redis_breaker_state 2$/m);
    // The count of what happened stays.
    expect(text).toMatch(
      /^masa_redis_breaker_transitions_total\{from="closed",to="open",node="10\.0\.0\.7:6379"\} 1$/m,
    );
  });
});
