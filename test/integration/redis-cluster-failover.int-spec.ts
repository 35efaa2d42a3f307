import Redis from 'ioredis';
import {
  generousLimits,
  lookUpAcknowledged,
  tenantsOverMasters,
  until,
} from '../support/cluster-failover';
import { RedisCluster } from '../support/redis-cluster';
import { startTestApp, type TestApp } from '../support/test-app';

const TENANTS_PER_MASTER = 2;

interface Acknowledged {
  tenant: string;
  id: string;
  /** Acknowledged while the victim's replica was cut off, before its master died. */
  unreplicated: boolean;
}

export interface ClusterFailoverCount {
  acknowledged: number;
  present: number;
  /** Acknowledged by the victim master while its replica was cut off. */
  acknowledgedWhileCut: number;
  refused: number;
  lostByTenant: Record<string, number>;
}

/**
 * The lossy failover of a Cluster master, made observable: writers create sessions for tenants on
 * all three masters; the replica of one master is frozen (SIGSTOP) and its replication link cut
 * (CLIENT KILL TYPE replica on the master), so what that master acknowledges from then on exists
 * only there; the master is killed and the frozen replica resumed and promoted (CLUSTER FAILOVER
 * TAKEOVER, as an operator does when the master is gone); the old master comes back as a replica.
 * Then every acknowledged id is looked up through the cluster.
 */
async function countThroughClusterFailover(
  env: Record<string, string>,
): Promise<ClusterFailoverCount> {
  const cluster = await RedisCluster.start(6, 1);
  const t: TestApp = await startTestApp(cluster.url, {
    RATE_LIMITS_CONFIG_PATH: generousLimits(),
    ...env,
  });
  const byMaster = await tenantsOverMasters(cluster, TENANTS_PER_MASTER);
  const [victimMaster, victimTenants] = [...byMaster.entries()][0];
  const victimReplica = await cluster.replicaOf(victimMaster);
  const tenants = [...byMaster.values()].flat();

  const acknowledged: Acknowledged[] = [];
  const acksOf = (tenant: string) => acknowledged.filter((a) => a.tenant === tenant).length;
  let cut = false;
  let refused = 0;
  let writing = true;
  const writer = async (tenant: string) => {
    const agent = t.as({ sub: `writer-${tenant}`, roles: ['orchestrator'], tenant });
    while (writing) {
      // Sent after the replica link was killed and answered before the master died: a write sent
      // a moment earlier may already sit in the frozen replica's socket buffer and survive.
      const sentWhileCut = cut;
      const response = await agent
        .post('/api/v1/sessions')
        .send({ session_config: { tenant }, created_by: 'durability' });
      if (response.status === 201) {
        acknowledged.push({
          tenant,
          id: response.body.session_id as string,
          unreplicated: sentWhileCut && cut && victimTenants.includes(tenant),
        });
      } else {
        expect(response.status).toBe(503);
        refused++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };

  const writers = tenants.map((tenant) => writer(tenant));
  try {
    await until(() => tenants.every((tenant) => acksOf(tenant) >= 10), 60_000);

    cluster.signal(victimReplica, 'SIGSTOP');
    const master = new Redis(victimMaster, '127.0.0.1');
    await master.call('CLIENT', 'KILL', 'TYPE', 'replica');
    master.disconnect();
    cut = true;
    const cutAt = Date.now();
    // Long enough for the victim master to acknowledge writes its replica never receives, short of
    // the cluster's node timeout (nobody declares the frozen replica failed).
    const whileCut = () => acknowledged.filter((a) => a.unreplicated).length;
    await until(() => whileCut() >= 30 || Date.now() - cutAt > 3000, 10_000);

    cluster.signal(victimMaster, 'SIGKILL');
    cut = false;
    cluster.signal(victimReplica, 'SIGCONT');
    const promoted = new Redis(victimReplica, '127.0.0.1');
    await promoted.cluster('FAILOVER', 'TAKEOVER');
    await until(async () => (await promoted.info('replication')).includes('role:master'), 30_000);
    cluster.restart(victimMaster);
    await until(
      async () => /slave0:.*state=online/.test(await promoted.info('replication')),
      30_000,
    );
    promoted.disconnect();

    // Writes keep going until the API has followed the new slot owner for every tenant.
    const settled = new Map(tenants.map((tenant) => [tenant, acksOf(tenant)]));
    await until(
      () => tenants.every((tenant) => acksOf(tenant) >= (settled.get(tenant) ?? 0) + 10),
      60_000,
    );
    writing = false;
    await Promise.all(writers);

    const { present, lostByTenant } = await lookUpAcknowledged(
      cluster,
      t.config.redis.keyPrefix,
      acknowledged,
    );
    return {
      acknowledged: acknowledged.length,
      present,
      acknowledgedWhileCut: acknowledged.filter((a) => a.unreplicated).length,
      refused,
      lostByTenant,
    };
  } finally {
    writing = false;
    await Promise.allSettled(writers);
    await t.close();
    cluster.dispose();
  }
}

/**
 * Acknowledged writes against the failover of a Redis Cluster master (3 masters + 3 replicas),
 * with and without REDIS_MIN_REPLICAS_ACK. The replica is cut off first, so the default mode's loss
 * is not left to chance: the test shows that it would notice one.
 */
describe('durability across a Redis Cluster master failover', () => {
  it('loses acknowledged writes by default (REDIS_MIN_REPLICAS_ACK=0): the count notices', async () => {
    const count = await countThroughClusterFailover({});
    process.stdout.write(`cluster failover REDIS_MIN_REPLICAS_ACK=0: ${JSON.stringify(count)}\n`);
    expect(count.acknowledgedWhileCut).toBeGreaterThan(0);
    // Everything the victim master acknowledged after its replica was cut off is gone.
    expect(count.acknowledged - count.present).toBeGreaterThanOrEqual(count.acknowledgedWhileCut);
  }, 180_000);

  it('loses none with REDIS_MIN_REPLICAS_ACK=1', async () => {
    const count = await countThroughClusterFailover({
      REDIS_MIN_REPLICAS_ACK: '1',
      REDIS_WAIT_TIMEOUT_MS: '500',
    });
    process.stdout.write(`cluster failover REDIS_MIN_REPLICAS_ACK=1: ${JSON.stringify(count)}\n`);
    expect(count.acknowledged).toBeGreaterThan(100);
    expect(count.acknowledgedWhileCut).toBe(0);
    expect(count.present).toBe(count.acknowledged);
  }, 180_000);
});
