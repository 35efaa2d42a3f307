/**
 * Why a replica should not serve reads now, judged from its `INFO replication` + `INFO
 * persistence`; undefined when it may. A replica still loading its data set, in a full sync, or
 * cut off from its master for longer than `maxStalenessMs` would answer errors or old data.
 * A node that reports itself master (a promoted replica) is as fresh as it gets.
 */
export function replicaUnfitness(info: string, maxStalenessMs: number): string | undefined {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  if (field('loading') === '1') return 'the replica is loading its data set';
  if (field('role') !== 'slave') return undefined;
  if (field('master_sync_in_progress') === '1') return 'the replica is in a full sync';
  if (field('master_link_status') === 'up') return undefined;
  // -1 (or absent): never connected since it started, so its data set is of unknown age.
  const downSeconds = Number(field('master_link_down_since_seconds') ?? -1);
  if (downSeconds < 0) return 'the replica has not synced with its master';
  if (downSeconds * 1000 > maxStalenessMs) {
    return `the replica's link to its master is down for ${downSeconds} s (bound ${maxStalenessMs} ms)`;
  }
  return undefined;
}
