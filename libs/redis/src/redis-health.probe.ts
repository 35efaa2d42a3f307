import { Inject, Injectable } from '@nestjs/common';
import Redis, { Cluster } from 'ioredis';
import type { RedisClient } from './connection/redis-client.factory';
import { breakersOf } from './connection/breaker-gate';
import { beforeDeadline, LATE } from './connection/deadline';
import type { BreakerState } from './connection/circuit-breaker';
import { REDIS_CLIENT } from './redis.constants';
import { storeCall, StoreUnavailableError } from './store-errors';

export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

/** How the deployment's Redis is laid out, as seen from this replica of the API. */
export interface RedisTopology {
  mode: RedisMode;
  /** Role of the node the API writes to ('master' unless it was pointed at a replica). */
  role: string;
  /** Replicas attached to the primary and online (summed over masters for Cluster). */
  connectedReplicas: number;
  /** Sentinel only: the monitored master name. */
  masterName?: string;
  /** Cluster only. */
  clusterState?: string;
  masters?: number;
  replicas?: number;
  /** Cluster only: nodes flagged fail or pfail by the cluster. */
  failingNodes?: number;
}

export interface RedisHealthReport {
  connection: string;
  latencyMs: number;
  version?: string;
  usedMemoryBytes?: number;
  /** 0 means no limit (Redis' own convention). */
  maxMemoryBytes?: number;
  maxMemoryPolicy?: string;
  evictedKeys?: number;
  connectedClients?: number;
  topology: RedisTopology;
  /** Why the store is not fully healthy although it answers; empty when all is well. */
  problems: string[];
  /** True when Redis answers but cannot serve (e.g. Cluster reports its state as fail). */
  failing: boolean;
}

/** The PING budget for the plan's rule: slower than this and Redis counts as degraded. */
export const REDIS_SLOW_PING_MS = 100;

type Info = Record<string, string>;

function parseInfo(text: string): Info {
  const info: Info = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) info[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return info;
}

function num(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Replicas listed by INFO replication as `slaveN:ip=...,state=online,...`. */
function onlineReplicas(info: Info): number {
  return Object.entries(info).filter(
    ([name, value]) => /^slave\d+$/.test(name) && value.includes('state=online'),
  ).length;
}

/** What health checks may learn about Redis, without handing them the client. */
@Injectable()
export class RedisHealthProbe {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: RedisClient) {}

  get mode(): RedisMode {
    if (this.redis instanceof Cluster) return 'cluster';
    return this.redis.options.sentinels?.length ? 'sentinel' : 'standalone';
  }

  /**
   * State of the circuit breaker in front of Redis; undefined when it is off. On a Cluster, which
   * has one per node, the worst of them: `open` as soon as one node's breaker is open.
   */
  get breakerState(): BreakerState | undefined {
    const states = breakersOf(this.redis).map((breaker) => breaker.state);
    if (states.length === 0) return undefined;
    return states.includes('open') ? 'open' : states.includes('half_open') ? 'half_open' : 'closed';
  }

  /**
   * Whether every breaker is open (on a Cluster, every master's), so every command is refused. Not
   * so while one master's alone is open: the others serve their slots, and every instance shares
   * the same Cluster, so taking instances out of rotation would refuse those too.
   */
  get breakersAllOpen(): boolean {
    const breakers = breakersOf(this.redis, 'master');
    return breakers.length > 0 && breakers.every((breaker) => breaker.state === 'open');
  }

  /**
   * Round-trip time of a PING; throws StoreUnavailableError when Redis does not answer, or does
   * not answer within `timeoutMs` (probes must answer faster than the orchestrator's timeout).
   */
  async ping(timeoutMs?: number): Promise<number> {
    const started = process.hrtime.bigint();
    const ping = storeCall(() => this.pingOnce());
    if (timeoutMs === undefined) {
      await ping;
    } else if ((await beforeDeadline(ping, timeoutMs)) === LATE) {
      throw new StoreUnavailableError(`PING took longer than ${timeoutMs} ms`);
    }
    return Number(process.hrtime.bigint() - started) / 1e6;
  }

  /**
   * On a Cluster, the first master to answer: a PING to one node chosen at random would fail
   * readiness for one dead or breaker-guarded master while the others serve their slots.
   */
  private async pingOnce(): Promise<unknown> {
    const masters = this.redis instanceof Cluster ? this.redis.nodes('master') : [];
    if (masters.length === 0) return this.redis.ping();
    return Promise.any(masters.map((node) => node.ping())).catch((error: AggregateError) => {
      throw error.errors[0];
    });
  }

  /** Latency, memory, clients and topology; throws StoreUnavailableError when Redis is gone. */
  async report(): Promise<RedisHealthReport> {
    const latencyMs = await this.ping();
    const report =
      this.redis instanceof Cluster
        ? await this.clusterReport(this.redis, latencyMs)
        : await this.nodeReport(this.redis, latencyMs);
    if (latencyMs >= REDIS_SLOW_PING_MS) {
      report.problems.unshift(
        `PING took ${Math.round(latencyMs)} ms (healthy is < ${REDIS_SLOW_PING_MS} ms)`,
      );
    }
    if (report.maxMemoryBytes && report.usedMemoryBytes !== undefined) {
      const usage = report.usedMemoryBytes / report.maxMemoryBytes;
      if (usage >= 0.9) {
        report.problems.push(
          `memory at ${Math.round(usage * 100)} % of maxmemory: writes will soon fail`,
        );
      }
    }
    return report;
  }

  private async nodeReport(redis: Redis, latencyMs: number): Promise<RedisHealthReport> {
    // One INFO (default sections) instead of one round trip per section.
    const info = parseInfo(await storeCall(() => redis.info()));
    const mode = this.mode;
    const role = info.role ?? 'unknown';
    const topology: RedisTopology = {
      mode,
      role: role === 'slave' ? 'replica' : role,
      connectedReplicas: onlineReplicas(info),
      ...(mode === 'sentinel' ? { masterName: redis.options.name } : {}),
    };
    const problems: string[] = [];
    if (mode === 'sentinel' && topology.connectedReplicas === 0) {
      problems.push('no replica is connected to the primary: Sentinel has nothing to fail over to');
    }
    if (role === 'slave' && info.master_link_status !== 'up') {
      problems.push('this node is a replica whose link to its primary is down');
    }
    return {
      connection: redis.status,
      latencyMs,
      version: info.redis_version,
      usedMemoryBytes: num(info.used_memory),
      maxMemoryBytes: num(info.maxmemory),
      maxMemoryPolicy: info.maxmemory_policy,
      evictedKeys: num(info.evicted_keys),
      connectedClients: num(info.connected_clients),
      topology,
      problems,
      failing: false,
    };
  }

  private async clusterReport(cluster: Cluster, latencyMs: number): Promise<RedisHealthReport> {
    const masters = cluster.nodes('master');
    const infos = await Promise.all(
      masters.map(async (node) => parseInfo(await storeCall(() => node.info()))),
    );
    const first = masters[0];
    const clusterInfo = first
      ? parseInfo(String(await storeCall(() => first.call('CLUSTER', 'INFO'))))
      : {};
    const nodesText = first ? String(await storeCall(() => first.call('CLUSTER', 'NODES'))) : '';
    const lines = nodesText.split('\n').filter((line) => line.trim().length > 0);
    const flags = lines.map((line) => line.split(' ')[2] ?? '');
    const failingNodes = flags.filter((f) => /(^|,)(fail|fail\?)(,|$)/.test(f)).length;
    const sum = (field: string) =>
      infos.reduce<number | undefined>((total, info) => {
        const value = num(info[field]);
        return value === undefined ? total : (total ?? 0) + value;
      }, undefined);
    const clusterState = clusterInfo.cluster_state ?? 'unknown';
    const problems: string[] = [];
    if (failingNodes > 0) problems.push(`${failingNodes} cluster node(s) flagged as failing`);
    if (clusterState !== 'ok') problems.push(`cluster_state is ${clusterState}`);
    return {
      connection: cluster.status,
      latencyMs,
      version: infos[0]?.redis_version,
      usedMemoryBytes: sum('used_memory'),
      maxMemoryBytes: sum('maxmemory'),
      maxMemoryPolicy: infos[0]?.maxmemory_policy,
      evictedKeys: sum('evicted_keys'),
      connectedClients: sum('connected_clients'),
      topology: {
        mode: 'cluster',
        role: 'master',
        connectedReplicas: infos.reduce((total, info) => total + onlineReplicas(info), 0),
        clusterState,
        masters: flags.filter((f) => f.includes('master')).length,
        replicas: flags.filter((f) => f.includes('slave')).length,
        failingNodes,
      },
      problems,
      failing: clusterState === 'fail',
    };
  }
}
