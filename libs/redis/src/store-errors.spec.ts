import { ReplyError as IoredisReplyErrorExport } from 'ioredis';
import {
  StoreUnavailableError,
  WriteOutcomeUnknownError,
  classifyStoreFailure,
  isReplyLost,
  isUnavailability,
  storeCall,
} from './store-errors';

// ioredis re-exports redis-errors' ReplyError typed as `any`; give it the shape the tests use.
const IoredisReplyError = IoredisReplyErrorExport as new (message: string) => Error;

/** An error shaped like ioredis' ReplyError (redis-errors): an Error whose name is "ReplyError". */
function replyError(message: string): Error {
  const error = new Error(message);
  error.name = 'ReplyError';
  return error;
}

class ReplyError extends Error {
  override name = 'ReplyError';
}

describe('isUnavailability', () => {
  it('recognises the ReplyError class ioredis actually throws', () => {
    expect(new IoredisReplyError('ERR x').name).toBe('ReplyError');
    expect(isUnavailability(new IoredisReplyError('ERR unknown command'))).toBe(false);
    expect(
      isUnavailability(new IoredisReplyError('LOADING Redis is loading the dataset in memory')),
    ).toBe(true);
  });

  it.each([
    [
      'connection refused',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }),
    ],
    ['a closed connection', new Error('Connection is closed.')],
    ['a command timeout', new Error('Command timed out')],
    [
      'a disabled offline queue',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    ],
    [
      'retries exhausted',
      Object.assign(new Error('Reached the max retries per request limit'), {
        name: 'MaxRetriesPerRequestError',
      }),
    ],
    ['a socket reset (by code)', Object.assign(new Error('read failed'), { code: 'ECONNRESET' })],
  ])('treats %s as unavailability', (_label, error) => {
    expect(isUnavailability(error)).toBe(true);
  });

  it.each([
    ['a plain Error with an empty message', new Error('')],
    ['a TypeError from a bug', new TypeError('x is not a function')],
    ['a JSON parse failure', new SyntaxError('Unexpected token n in JSON')],
  ])('keeps %s a server error, not a 503', (_label, error) => {
    expect(isUnavailability(error)).toBe(false);
  });

  it.each([
    'LOADING Redis is loading the dataset in memory',
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no',
    "READONLY You can't write against a read only replica.",
    'BUSY Redis is busy running a script.',
    'NOREPLICAS Not enough good replicas to write.',
  ])('treats the transient reply %j as unavailability', (message) => {
    expect(isUnavailability(replyError(message))).toBe(true);
    expect(isUnavailability(new ReplyError(message))).toBe(true);
  });

  it.each([
    'ERR wrong number of arguments for ' + "'hset' command",
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'NOSCRIPT No matching script. Please use EVAL.',
    'ERR Error running script (call to f_abc): @user_script:1: user_script:1: oops',
    'NOAUTH Authentication required.',
    'BUSYKEY Target key name already exists.',
    // A transient word that is not the reply's leading code, or only a prefix of a longer word.
    'ERR LOADING is not the first word',
    'LOADINGX not a known code',
    'loading lowercase is not a server code',
  ])('treats the ordinary reply error %j as a bug, not unavailability', (message) => {
    expect(isUnavailability(replyError(message))).toBe(false);
  });

  it.each([
    ['a string', 'Connection is closed.'],
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an error-like object', { name: 'Error', message: 'Connection is closed.' }],
    ['a reply-like object', { name: 'ReplyError', message: 'LOADING' }],
  ])('returns false for %s, which is not an Error', (_label, value) => {
    expect(isUnavailability(value)).toBe(false);
  });
});

describe('storeCall', () => {
  it('returns the result of a successful operation', async () => {
    await expect(storeCall(() => Promise.resolve({ ok: 1 }))).resolves.toEqual({ ok: 1 });
  });

  it('runs the operation exactly once', async () => {
    const operation = jest.fn(() => Promise.resolve('x'));
    await storeCall(operation);
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('wraps a connection failure into StoreUnavailableError carrying the original message', async () => {
    const failure = storeCall(() =>
      Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
    );
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failure).rejects.toMatchObject({
      name: 'StoreUnavailableError',
      reason: 'connect ECONNREFUSED 127.0.0.1:6379',
      message: 'data store unavailable: connect ECONNREFUSED 127.0.0.1:6379',
    });
  });

  it('wraps a transient reply error (CLUSTERDOWN) into StoreUnavailableError', async () => {
    const failure = storeCall(() => Promise.reject(replyError('CLUSTERDOWN The cluster is down')));
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failure).rejects.toMatchObject({ reason: 'CLUSTERDOWN The cluster is down' });
  });

  it('rethrows an ordinary reply error unchanged (same object)', async () => {
    const bug = replyError('ERR unknown command');
    let caught: unknown;
    try {
      await storeCall(() => Promise.reject(bug));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(bug);
    expect(caught).not.toBeInstanceOf(StoreUnavailableError);
  });

  it('rethrows a non-Error rejection unchanged', async () => {
    const value = { weird: true };
    let caught: unknown;
    try {
      await storeCall(() => Promise.reject(value as unknown as Error));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(value);
  });

  it('wraps an error thrown synchronously by the operation', async () => {
    const failure = storeCall(() => {
      throw new Error('Connection is closed.');
    });
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('StoreUnavailableError', () => {
  it('is an Error with its own name, reason and message', () => {
    const error = new StoreUnavailableError('socket closed');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('StoreUnavailableError');
    expect(error.reason).toBe('socket closed');
    expect(error.message).toBe('data store unavailable: socket closed');
  });
});

describe('classifyStoreFailure', () => {
  it.each([
    ['OOM command not allowed when used memory > maxmemory.', 'out_of_memory'],
    ["READONLY You can't write against a read only replica.", 'read_only'],
    ['LOADING Redis is loading the dataset in memory', 'loading'],
    ['BUSY Redis is busy running a script.', 'busy'],
    [
      'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist',
      'persistence_failing',
    ],
    ['CLUSTERDOWN The cluster is down', 'cluster_reconfiguring'],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'cluster_reconfiguring'],
    [
      'ERR Error running script (call to f_1): @user_script:9: Script attempted to access a non local key in a cluster node',
      'cluster_reconfiguring',
    ],
    ['NOREPLICAS Not enough good replicas to write.', 'replicas_missing'],
  ])('classifies the reply %j', (message, failure) => {
    expect(classifyStoreFailure(replyError(message))).toBe(failure);
  });

  it('classifies a batch ioredis refused because a slot moved under it as cluster reconfiguring', () => {
    const error = new Error(
      'All keys in the pipeline should belong to the same slots allocation group',
    );
    expect(classifyStoreFailure(error)).toBe('cluster_reconfiguring');
  });

  it('classifies a write whose reply was lost as outcome unknown, through storeCall', async () => {
    const lost = new WriteOutcomeUnknownError('session.create', new Error('Command timed out'));
    await expect(storeCall(() => Promise.reject(lost))).rejects.toMatchObject({
      name: 'StoreUnavailableError',
      failure: 'outcome_unknown',
    });
  });

  it('classifies ioredis giving up on a slot that kept moving as cluster reconfiguring', () => {
    const tryAgain = replyError('TRYAGAIN Multiple keys request during rehashing of slot');
    const gaveUp = new Error(`Too many Cluster redirections. Last error: ${String(tryAgain)}`);
    expect(classifyStoreFailure(gaveUp)).toBe('cluster_reconfiguring');
  });

  it('keeps plain connection failures "unreachable"', () => {
    expect(classifyStoreFailure(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe('unreachable');
  });
});

describe('isReplyLost', () => {
  it.each([
    ['a command timeout', new Error('Command timed out'), true],
    ['a connection closed with the command in flight', new Error('Connection is closed.'), true],
    [
      'retries exhausted',
      Object.assign(new Error('Reached the max retries per request limit'), {
        name: 'MaxRetriesPerRequestError',
      }),
      true,
    ],
    // Refused before anything was written: the command never left.
    [
      'a disabled offline queue',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      false,
    ],
    ['connection refused', new Error('connect ECONNREFUSED 127.0.0.1:1'), false],
    ['a reply error', replyError('OOM command not allowed'), false],
  ])('%s -> %s', (_label, error, lost) => {
    expect(isReplyLost(error)).toBe(lost);
  });
});
