import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const DEPLOYMENT = join(ROOT, 'deployment');

/** Runs a tool that .ci/run installs; a missing tool fails the test and says how to get it. */
export function run(command: string, args: string[], cwd = ROOT): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      `${command} is not installed (bash .ci/run installs it; see README "Operations")`,
    );
  }
  return result;
}
