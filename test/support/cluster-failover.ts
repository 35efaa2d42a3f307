import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import type { RedisCluster } from './redis-cluster';

/**
 * Shared by the Cluster failover specs, which count acknowledged writes against writes present
 * after a master is lost (test/integration/redis-cluster-*.int-spec.ts).
 */

/** Rate limits far above what the writers send, so only Redis decides what is acknowledged. */
export function generousLimits(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'masa-cluster-failover-')), 'rate-limits.yaml');
  writeFileSync(
    file,
    'window_seconds: 60\nfailed_auth_per_ip: 60\nclasses:\n  reads: 100000\n  writes: 100000\n  bulk: 100\n  invalidation: 100\n  audit_export: 10\n',
  );
  return file;
}

/** Polls `condition` every 50 ms (a throw counts as false) until it holds, or throws. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve(condition()).catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Tenant names whose hash slots fall on every master, `perMaster` of them on each. */
export async function tenantsOverMasters(
  cluster: RedisCluster,
  perMaster: number,
): Promise<Map<number, string[]>> {
  const admin = new Redis(cluster.ports[0], '127.0.0.1');
  const byMaster = new Map<number, string[]>();
  try {
    for (
      let i = 0;
      byMaster.size < 3 || [...byMaster.values()].some((t) => t.length < perMaster);
      i++
    ) {
      const tenant = `tenant-${i}`;
      const owner = await cluster.ownerOf(Number(await admin.cluster('KEYSLOT', tenant)));
      const list = byMaster.get(owner) ?? [];
      if (list.length < perMaster) list.push(tenant);
      byMaster.set(owner, list);
    }
  } finally {
    admin.disconnect();
  }
  return byMaster;
}

/**
 * Looks every acknowledged session id up through the cluster (after the failover, so the slot map
 * is the new one): how many of each tenant's ids are missing, and how many are present in all.
 */
export async function lookUpAcknowledged(
  cluster: RedisCluster,
  keyPrefix: string,
  acknowledged: readonly { tenant: string; id: string }[],
): Promise<{ present: number; lostByTenant: Record<string, number> }> {
  const reader = new Cluster(
    cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    { enableReadyCheck: true },
  );
  try {
    const lostByTenant: Record<string, number> = {};
    let present = 0;
    for (const tenant of new Set(acknowledged.map((a) => a.tenant))) {
      const ids = acknowledged.filter((a) => a.tenant === tenant).map((a) => a.id);
      const pipeline = reader.pipeline();
      for (const id of ids) pipeline.exists(`${keyPrefix}:{${tenant}}:session:${id}`);
      const found = ((await pipeline.exec()) ?? []).filter(([, exists]) => exists === 1).length;
      present += found;
      lostByTenant[tenant] = ids.length - found;
    }
    return { present, lostByTenant };
  } finally {
    reader.disconnect();
  }
}

/** Whether a slot is served by `master` now (before it is killed). */
export async function slotsOf(
  cluster: RedisCluster,
  master: number,
): Promise<(slot: number) => boolean> {
  const admin = new Redis(cluster.ports[0], '127.0.0.1');
  try {
    const ranges = (await admin.cluster('SLOTS')) as unknown as [
      number,
      number,
      [string, number],
    ][];
    const own = ranges.filter(([, , [, port]]) => port === master);
    return (slot) => own.some(([from, to]) => slot >= from && slot <= to);
  } finally {
    admin.disconnect();
  }
}
