import { Readable } from 'node:stream';
import { ndjsonLines, type NdjsonLine } from './ndjson';

async function collect(chunks: string[], max = 100): Promise<NdjsonLine[]> {
  const lines: NdjsonLine[] = [];
  for await (const line of ndjsonLines(
    Readable.from(chunks.map((chunk) => Buffer.from(chunk))),
    max,
  )) {
    lines.push(line);
  }
  return lines;
}

describe('ndjsonLines', () => {
  it('splits across chunk boundaries, strips CR and numbers lines, skipping blank ones', async () => {
    expect(await collect(['{"a":', '1}\r\n\n{"b"', ':2}\n', '{"c":3}'])).toEqual([
      { number: 1, text: '{"a":1}' },
      { number: 3, text: '{"b":2}' },
      { number: 4, text: '{"c":3}' },
    ]);
  });

  it('reports a line over the limit as too long without holding it, and goes on', async () => {
    const long = 'x'.repeat(60);
    expect(await collect(['{"a":1}\n', long, long, '\n{"b":2}\n', long + long], 100)).toEqual([
      { number: 1, text: '{"a":1}' },
      { number: 2, tooLong: true },
      { number: 3, text: '{"b":2}' },
      { number: 4, tooLong: true },
    ]);
  });

  it('keeps multi-byte characters split between chunks intact', async () => {
    const bytes = Buffer.from('{"é":"✓"}\n');
    const lines: NdjsonLine[] = [];
    for await (const line of ndjsonLines(
      Readable.from([bytes.subarray(0, 3), bytes.subarray(3)]),
      100,
    )) {
      lines.push(line);
    }
    expect(lines).toEqual([{ number: 1, text: '{"é":"✓"}' }]);
  });
});
