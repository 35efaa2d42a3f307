/** DI token of the shared ioredis client (standalone, Sentinel or Cluster). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
