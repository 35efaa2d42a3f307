import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisServer } from '../support/redis-server';
import { REPO_ROOT, startApiProcess, type ApiProcess } from '../support/api-process';
import { TEST_JWT_SECRET } from '../support/test-app';

jest.setTimeout(180_000);

interface Block {
  heading: string;
  code: string;
  /** The `# → text` lines: text each must appear in what the block prints. */
  expected: string[];
}

/** The ```bash blocks of the README's "## Walk-through" section, in order, with their headings. */
function walkthroughBlocks(readme: string): Block[] {
  const start = readme.indexOf('\n## Walk-through\n');
  if (start === -1) throw new Error('README has no "## Walk-through" section');
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next === -1 ? undefined : next);
  const blocks: Block[] = [];
  let heading = 'Walk-through';
  const pattern = /^### (.+)$|^```bash\n([\s\S]*?)^```$/gm;
  for (let match = pattern.exec(section); match; match = pattern.exec(section)) {
    if (match[1]) {
      heading = match[1];
      continue;
    }
    const code = match[2];
    const expected = [...code.matchAll(/^# → (.+)$/gm)].map((m) => m[1]);
    blocks.push({ heading, code, expected });
  }
  return blocks;
}

/** Issue #13: the README's walk-through, run as a newcomer would paste it, against a real API. */
describe('README walk-through', () => {
  let redis: RedisServer;
  let app: ApiProcess;
  const blocks = walkthroughBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
  let outputs: string[] = [];
  let run: { status: number | null; stderr: string };

  beforeAll(async () => {
    redis = await RedisServer.start();
    app = await startApiProcess({ REDIS_URL: redis.url });
    const script = [
      'set -euo pipefail',
      // curl prints JSON without a final newline: each marker starts on its own line.
      ...blocks.map((block, i) => `echo; echo "@@block ${i}@@"\n${block.code}`),
    ].join('\n');
    const result = spawnSync('bash', ['-c', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(app.port),
        JWT_SECRET: TEST_JWT_SECRET,
      },
    });
    run = { status: result.status, stderr: result.stderr };
    outputs = result.stdout.split(/\n@@block \d+@@\n/).slice(1);
  });

  afterAll(async () => {
    await app?.stop();
    await redis.dispose();
  });

  it('has a block for sessions, memory, cache and batch calls, each with checked output', () => {
    const headings = blocks.map((b) => b.heading).join(' | ');
    for (const topic of ['Sessions', 'memory', 'Cache', 'Batch']) expect(headings).toContain(topic);
    expect(blocks.filter((b) => b.expected.length > 0).length).toBeGreaterThanOrEqual(4);
  });

  it('runs every block to the end without a failing command', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(outputs).toHaveLength(blocks.length);
  });

  it.each(
    walkthroughBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).map((b, i) => [
      `${i}: ${b.heading}`,
      i,
    ]),
  )('block %s prints what its "# →" lines say', (_name, index) => {
    for (const expected of blocks[index].expected) {
      expect(outputs[index]).toContain(expected);
    }
  });
});
