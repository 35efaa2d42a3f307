import { replicaUnfitness } from './replica-health';

const replica = (fields: Record<string, string | number>) =>
  `# Replication\r\n${Object.entries(fields)
    .map(([k, v]) => `${k}:${v}`)
    .join('\r\n')}\r\n# Persistence\r\nloading:${fields.loading ?? 0}\r\n`;

describe('replicaUnfitness', () => {
  it('lets a replica with a live link serve reads', () => {
    expect(replicaUnfitness(replica({ role: 'slave', master_link_status: 'up' }), 5000)).toBe(
      undefined,
    );
  });

  it('lets a node that is master (a promoted replica) serve reads', () => {
    expect(replicaUnfitness(replica({ role: 'master' }), 5000)).toBe(undefined);
  });

  it('refuses a replica that is loading its data set', () => {
    const info = replica({ role: 'slave', master_link_status: 'up', loading: 1 });
    expect(replicaUnfitness(info, 5000)).toMatch(/loading/);
  });

  it('refuses a replica in a full sync', () => {
    const info = replica({
      role: 'slave',
      master_link_status: 'down',
      master_sync_in_progress: 1,
      master_link_down_since_seconds: 0,
    });
    expect(replicaUnfitness(info, 5000)).toMatch(/full sync/);
  });

  it('tolerates a link down within the staleness bound, not beyond it', () => {
    const down = (seconds: number) =>
      replica({
        role: 'slave',
        master_link_status: 'down',
        master_sync_in_progress: 0,
        master_link_down_since_seconds: seconds,
      });
    expect(replicaUnfitness(down(2), 5000)).toBe(undefined);
    expect(replicaUnfitness(down(6), 5000)).toMatch(/down for 6 s/);
    expect(replicaUnfitness(down(-1), 5000)).toMatch(/not synced/);
  });
});
