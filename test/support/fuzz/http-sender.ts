import { Agent, request } from 'node:http';
import type { FuzzRequest } from './request-arbitrary';

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first 64 KiB of the body (enough to judge a problem document). */
  body: string;
  ms: number;
}

export type SendOutcome =
  | { kind: 'response'; response: FuzzResponse }
  | { kind: 'hang'; ms: number }
  | { kind: 'transport'; code: string; ms: number };

const KEEP = 64 * 1024;

/**
 * Sends fuzz requests over real HTTP/1.1 with keep-alive (Node's client, so headers and paths
 * go on the wire exactly as built). A request without a complete answer within `timeoutMs` is a
 * hang; an event stream's answer is complete once its head arrived.
 */
export class HttpSender {
  private readonly agent: Agent;

  constructor(
    private readonly port: number,
    private readonly timeoutMs: number,
    maxSockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  send(fuzz: FuzzRequest): Promise<SendOutcome> {
    const started = Date.now();
    const body = fuzz.body === undefined ? undefined : Buffer.from(fuzz.body, 'utf8');
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: SendOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      let req: ReturnType<typeof request>;
      try {
        req = request({
          host: '127.0.0.1',
          port: this.port,
          method: fuzz.method,
          path: fuzz.url,
          agent: this.agent,
          headers: {
            ...fuzz.headers,
            ...(body ? { 'content-length': String(body.length) } : {}),
          },
        });
      } catch (error) {
        // Node refused to build it (not a request the server ever sees): report, never hide.
        resolve({ kind: 'transport', code: `client:${(error as Error).message}`, ms: 0 });
        return;
      }
      const timer = setTimeout(() => {
        req.destroy();
        settle({ kind: 'hang', ms: Date.now() - started });
      }, this.timeoutMs);
      req.on('response', (res) => {
        // An event stream is an answer that never ends by design (GET /events): its head is the
        // whole answer here, and hanging up also exercises the server's clean-up of a subscriber.
        if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          settle({
            kind: 'response',
            response: {
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: '',
              ms: Date.now() - started,
            },
          });
          res.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < KEEP) chunks.push(chunk);
          kept += chunk.length;
        });
        const finish = () =>
          settle({
            kind: 'response',
            response: {
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).subarray(0, KEEP).toString('utf8'),
              ms: Date.now() - started,
            },
          });
        res.on('end', finish);
        // The server may close right after a complete answer to a body it did not want.
        res.on('error', finish);
      });
      req.on('error', (error: NodeJS.ErrnoException) =>
        settle({ kind: 'transport', code: error.code ?? error.message, ms: Date.now() - started }),
      );
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
