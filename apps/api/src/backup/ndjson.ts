import type { Readable } from 'node:stream';

export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';

/**
 * The body of an NDJSON request as the content-type parser hands it over: the raw stream, read
 * line by line by the handler (never buffered whole). The stream is not enumerable, so the audit
 * record's request_data (which copies the body's own fields) shows only the content type.
 */
export class NdjsonBody {
  readonly content_type = NDJSON_CONTENT_TYPE;
  declare readonly stream: Readable;

  constructor(stream: Readable) {
    Object.defineProperty(this, 'stream', { value: stream, enumerable: false });
  }
}

export interface NdjsonLine {
  /** 1-based line number in the body. */
  number: number;
  /** The line's text, or undefined when it was longer than the limit (then `tooLong` is set). */
  text?: string;
  tooLong?: boolean;
}

/**
 * Splits a byte stream into lines (LF, optional CR) without holding more than one line: a line
 * longer than `maxLineBytes` is skipped up to its end and reported as too long. Blank lines are
 * counted (for line numbers) but not yielded.
 */
export async function* ndjsonLines(
  stream: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
): AsyncGenerator<NdjsonLine> {
  let parts: Buffer[] = [];
  let held = 0;
  let tooLong = false;
  let number = 0;
  const finish = (): NdjsonLine | undefined => {
    number++;
    const line: NdjsonLine | undefined = tooLong
      ? { number, tooLong: true }
      : (() => {
          const text = Buffer.concat(parts).toString('utf8').replace(/\r$/, '');
          return text.trim() === '' ? undefined : { number, text };
        })();
    parts = [];
    held = 0;
    tooLong = false;
    return line;
  };
  for await (const chunk of stream) {
    let buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (let newline = buffer.indexOf(10); newline >= 0; newline = buffer.indexOf(10)) {
      if (!tooLong) parts.push(buffer.subarray(0, newline));
      held += newline;
      if (held > maxLineBytes) tooLong = true;
      const line = finish();
      if (line) yield line;
      buffer = buffer.subarray(newline + 1);
    }
    if (buffer.length > 0 && !tooLong) {
      held += buffer.length;
      if (held > maxLineBytes) {
        tooLong = true;
        parts = [];
      } else {
        parts.push(buffer);
      }
    }
  }
  if (held > 0 || tooLong) {
    const line = finish();
    if (line) yield line;
  }
}
