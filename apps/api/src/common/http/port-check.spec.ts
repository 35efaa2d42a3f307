import { createServer, type Server } from 'node:net';
import { assertPortAvailable, portErrorOf, PortUnavailableError } from './port-check';

describe('assertPortAvailable', () => {
  let busy: Server;
  let port: number;

  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('refuses a busy port with one line naming the port and the PORT variable', async () => {
    const refusal = assertPortAvailable(port, '127.0.0.1');
    await expect(refusal).rejects.toBeInstanceOf(PortUnavailableError);
    await expect(refusal).rejects.toThrow(
      `Port ${port} is already in use (127.0.0.1:${port}); stop what uses it or set PORT to another port, e.g. PORT=3001.`,
    );
  });

  it('lets a free port go again after probing it', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const freePort = (free.address() as { port: number }).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));

    await expect(assertPortAvailable(freePort, '127.0.0.1')).resolves.toBeUndefined();
    // Still free: the probe did not keep it.
    await expect(assertPortAvailable(freePort, '127.0.0.1')).resolves.toBeUndefined();
  });
});

describe('portErrorOf', () => {
  it('turns a listen EADDRINUSE into the same advice and ignores other errors', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(portErrorOf(inUse, 3000, '0.0.0.0')?.message).toMatch(/^Port 3000 is already in use/);
    const denied = Object.assign(new Error('listen EACCES'), { code: 'EACCES' });
    expect(portErrorOf(denied, 80, '0.0.0.0')?.message).toMatch(/set PORT to a port above 1023/);
    expect(portErrorOf(new Error('boom'), 3000, '0.0.0.0')).toBeUndefined();
  });
});
