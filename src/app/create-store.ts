import type { Config } from "./config.js";
import { MemoryStore } from "./memory-store.js";
import { RedisStore } from "./redis-store.js";
import type { SessionStore } from "./session-store.js";

/** The one place that maps SESSION_STORE to an implementation. */
export function createStore(config: Config): SessionStore {
  switch (config.SESSION_STORE) {
    case "memory":
      return new MemoryStore({ maxSessions: config.MAX_SESSIONS, ttlSeconds: config.SESSION_TTL_SECONDS });
    case "redis":
      return new RedisStore({
        url: config.REDIS_URL,
        clusterNodes: config.REDIS_CLUSTER_NODES,
        keyPrefix: config.REDIS_KEY_PREFIX,
        ttlSeconds: config.SESSION_TTL_SECONDS,
        timeoutMs: config.STORE_TIMEOUT_MS,
      });
  }
}
