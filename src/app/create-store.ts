import type { Config } from "./config.js";
import { MemoryStore } from "./memory-store.js";
import type { SessionStore } from "./session-store.js";

/**
 * The one place that maps SESSION_STORE to an implementation. The Redis client is loaded only when
 * it is used: importing it costs a replica about 0.3 s of start-up on a busy machine.
 */
export async function createStore(config: Config): Promise<SessionStore> {
  switch (config.SESSION_STORE) {
    case "memory":
      return new MemoryStore({ maxSessions: config.MAX_SESSIONS, ttlSeconds: config.SESSION_TTL_SECONDS });
    case "redis": {
      const { RedisStore } = await import("./redis-store.js");
      return new RedisStore({
        url: config.REDIS_URL,
        clusterNodes: config.REDIS_CLUSTER_NODES,
        keyPrefix: config.REDIS_KEY_PREFIX,
        ttlSeconds: config.SESSION_TTL_SECONDS,
        timeoutMs: config.STORE_TIMEOUT_MS,
      });
    }
  }
}
