import { CircuitBreaker, type BreakerState } from './circuit-breaker';

function breaker(failureThreshold = 3, windowMs = 1000) {
  let now = 0;
  const b = new CircuitBreaker({ failureThreshold, windowMs }, () => now);
  const transitions: [BreakerState, BreakerState][] = [];
  b.onTransition((from, to) => transitions.push([from, to]));
  return {
    b,
    transitions,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function failTimes(b: CircuitBreaker, times: number) {
  for (let i = 0; i < times; i++) b.failed(b.admit());
}

describe('CircuitBreaker', () => {
  it('lets commands through while closed and opens on the threshold of consecutive failures', () => {
    const { b, transitions } = breaker(3);
    expect(b.admit()).toBe('pass');
    failTimes(b, 2);
    expect(b.state).toBe('closed');
    failTimes(b, 1);
    expect(b.state).toBe('open');
    expect(transitions).toEqual([['closed', 'open']]);
    expect(b.admit()).toBe('reject');
  });

  it('starts counting again after an answered command (the failures must be consecutive)', () => {
    const { b } = breaker(3);
    failTimes(b, 2);
    b.succeeded('pass');
    failTimes(b, 2);
    expect(b.state).toBe('closed');
    failTimes(b, 1);
    expect(b.state).toBe('open');
  });

  it('starts counting again when the failures spread over more than the window', () => {
    const { b, advance } = breaker(3, 1000);
    failTimes(b, 2);
    advance(1001);
    failTimes(b, 2);
    expect(b.state).toBe('closed');
    advance(500);
    failTimes(b, 1);
    expect(b.state).toBe('open');
  });

  it('never opens with a threshold of 0', () => {
    const { b } = breaker(0);
    failTimes(b, 100);
    expect(b.state).toBe('closed');
  });

  it('goes half-open when a probe is answered and lets exactly one trial through', () => {
    const { b, transitions } = breaker(1);
    failTimes(b, 1);
    b.probeAnswered();
    expect(b.state).toBe('half_open');
    expect(b.admit()).toBe('trial');
    expect(b.admit()).toBe('reject');
    b.succeeded('trial');
    expect(b.state).toBe('closed');
    expect(b.admit()).toBe('pass');
    expect(transitions).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
  });

  it('says it refuses exactly when admit() would reject', () => {
    const { b } = breaker(1);
    expect(b.refusing).toBe(false);
    failTimes(b, 1);
    expect(b.refusing).toBe(true);
    b.probeAnswered();
    expect(b.refusing).toBe(false);
    const trial = b.admit();
    expect(b.refusing).toBe(true);
    expect(b.admit()).toBe('reject');
    b.succeeded(trial);
    expect(b.refusing).toBe(false);
  });

  it('opens again when the trial is not answered, and needs a new probe answer to retry', () => {
    const { b } = breaker(1);
    failTimes(b, 1);
    b.probeAnswered();
    b.failed(b.admit());
    expect(b.state).toBe('open');
    expect(b.admit()).toBe('reject');
    b.probeAnswered();
    expect(b.admit()).toBe('trial');
  });

  it('ignores outcomes of commands sent before it opened (late timeouts, late replies)', () => {
    const { b, transitions } = breaker(2);
    const inFlight = [b.admit(), b.admit(), b.admit()];
    b.failed(inFlight[0]);
    b.failed(inFlight[1]);
    expect(b.state).toBe('open');
    b.failed(inFlight[2]);
    b.succeeded('pass');
    expect(b.state).toBe('open');
    b.probeAnswered();
    b.failed('pass');
    b.succeeded('pass');
    expect(b.state).toBe('half_open');
    expect(transitions).toHaveLength(2);
  });

  it('ignores probe answers unless open', () => {
    const { b, transitions } = breaker(3);
    b.probeAnswered();
    expect(b.state).toBe('closed');
    expect(transitions).toEqual([]);
  });

  it('counts a fresh streak after closing again', () => {
    const { b } = breaker(2);
    failTimes(b, 2);
    b.probeAnswered();
    b.succeeded(b.admit());
    expect(b.state).toBe('closed');
    failTimes(b, 1);
    expect(b.state).toBe('closed');
  });
});
