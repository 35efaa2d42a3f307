import { createServer } from 'node:net';

/** The port the API is configured to listen on cannot be had; the message says what to do. */
export class PortUnavailableError extends Error {}

function advice(code: string | undefined, host: string, port: number): string {
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') {
    return `Port ${port} is already in use (${where}); stop what uses it or set PORT to another port, e.g. PORT=3001.`;
  }
  if (code === 'EACCES') {
    return `Not allowed to listen on port ${port} (${where}); set PORT to a port above 1023.`;
  }
  return `Cannot listen on ${where} (${code ?? 'unknown error'}); check PORT and HOST.`;
}

/**
 * Fails before anything claims the API started: binds the port for a moment and lets it go. A
 * listen error that still happens later (a race) is turned into the same message by
 * {@link portErrorOf}.
 */
export function assertPortAvailable(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(new PortUnavailableError(advice(error.code, host, port))),
    );
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** The friendly form of a listen error, or undefined for any other error. */
export function portErrorOf(
  error: unknown,
  port: number,
  host: string,
): PortUnavailableError | undefined {
  if (error instanceof PortUnavailableError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    return new PortUnavailableError(advice(code, host, port));
  }
  return undefined;
}
