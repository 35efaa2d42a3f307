import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** The repository's config/ folder, from sources (ts-node, jest) and from the built dist tree. */
export function findConfigDir(): string {
  const candidates = [
    join(__dirname, '..', '..', '..', '..', 'config'),
    join(process.cwd(), 'config'),
  ];
  return candidates.find((dir) => existsSync(dir)) ?? candidates[candidates.length - 1];
}

/** Parses a YAML file into an unknown value; a missing file is undefined. */
export function readYamlFile(path: string): unknown {
  if (!existsSync(path)) return undefined;
  return parseYaml(readFileSync(path, 'utf8')) as unknown;
}
