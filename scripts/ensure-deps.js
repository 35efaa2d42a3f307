#!/usr/bin/env node
/**
 * `pretest`: installs dependencies when node_modules is missing or older than package-lock.json,
 * so `npm test` works on a fresh clone and after a pull that changed the lock file.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const LOCK = path.join(ROOT, 'package-lock.json');
// npm writes this "hidden lockfile" at the end of every install.
const INSTALLED = path.join(ROOT, 'node_modules', '.package-lock.json');

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

const installed = mtime(INSTALLED);
if (installed !== undefined && installed >= mtime(LOCK)) process.exit(0);

process.stdout.write('[pretest] node_modules is missing or out of date: running npm ci\n');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
  cwd: ROOT,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
if (result.error) {
  process.stderr.write(`[pretest] could not run npm ci: ${result.error.message}\n`);
  process.exit(1);
}
process.exit(result.status ?? 1);
