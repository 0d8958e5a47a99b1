import { once } from "node:events";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { SessionAffinityError } from "../errors.js";
import type { SessionHit, SessionStore } from "./session-store.js";

/**
 * Refreshes the TTL and increments in one atomic step; PEXPIRE doubles as the existence test, and INCR
 * keeps the TTL it just set. Returns false (nil) for an unknown session.
 */
const HIT_SCRIPT = `if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then return redis.call('INCR', KEYS[1]) end
return false`;

export interface RedisStoreOptions {
  url: string;
  /** Redis Cluster seed nodes ("host:port"); when non-empty the store talks to a cluster. */
  clusterNodes: string[];
  keyPrefix: string;
  ttlSeconds: number;
  timeoutMs: number;
}

type Client = (Redis | Cluster) & {
  sessionHit(key: string, ttlMs: number): Promise<number | null>;
};

/**
 * Sessions as Redis integers with a sliding PX expiry. One round trip per request on a known session
 * (the script) or a new one (SET NX). No offline queue and a command timeout, so an unreachable or
 * frozen Redis fails fast into a 503 instead of piling up requests, and the client reconnects by itself.
 */
export class RedisStore implements SessionStore {
  readonly kind = "redis" as const;
  readonly #client: Client;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  #ready: Promise<void> | undefined;

  constructor(options: RedisStoreOptions) {
    this.#prefix = options.keyPrefix;
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#timeoutMs = options.timeoutMs;
    const common: RedisOptions = {
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 1000),
      maxRetriesPerRequest: 0,
    };
    const client =
      options.clusterNodes.length > 0
        ? new Cluster(
            options.clusterNodes.map((n) => {
              const at = n.lastIndexOf(":");
              return { host: n.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(n.slice(at + 1)) };
            }),
            {
              enableOfflineQueue: false,
              clusterRetryStrategy: () => 250,
              retryDelayOnFailover: 100,
              retryDelayOnClusterDown: 100,
              redisOptions: { ...common, ...credentialsFrom(options.url) },
            },
          )
        : new Redis(options.url, { ...common, enableOfflineQueue: false, retryStrategy: () => 250 });
    // Errors surface per command; without a listener ioredis would print every reconnect attempt.
    client.on("error", () => {});
    client.defineCommand("sessionHit", { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.#client = client as Client;
  }

  /**
   * Without an offline queue a command sent while (re)connecting fails at once; waiting up to the
   * store timeout for the connection instead lets start-up and recovery serve instead of 503.
   */
  async #connected(): Promise<void> {
    if (this.#client.status === "ready") return;
    if (this.#client.status === "end") throw new Error("connection closed");
    // One shared listener however many requests wait, each with its own deadline.
    this.#ready ??= once(this.#client, "ready").then(() => {
      this.#ready = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not connected within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    try {
      await Promise.race([this.#ready, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async hit(id: string | undefined, freshId: () => string): Promise<SessionHit> {
    try {
      await this.#connected();
      if (id !== undefined) {
        const count = await this.#client.sessionHit(this.#prefix + id, this.#ttlMs);
        if (count !== null) return { id, count, created: false };
      }
      // 128 random bits make a collision practically impossible; NX makes it harmless anyway.
      for (let attempt = 0; attempt < 3; attempt++) {
        const fresh = freshId();
        const ok = await this.#client.set(this.#prefix + fresh, 1, "PX", this.#ttlMs, "NX");
        if (ok === "OK") return { id: fresh, count: 1, created: true };
      }
      throw new Error("three fresh session ids collided");
    } catch (err) {
      throw unavailable(err);
    }
  }

  async peek(id: string): Promise<number | undefined> {
    try {
      await this.#connected();
      const value = await this.#client.get(this.#prefix + id);
      return value === null ? undefined : Number(value);
    } catch (err) {
      throw unavailable(err);
    }
  }

  size(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}

function credentialsFrom(url: string): Pick<RedisOptions, "username" | "password" | "tls"> {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

function unavailable(err: unknown): SessionAffinityError {
  if (err instanceof SessionAffinityError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new SessionAffinityError("ERR_STORE_UNAVAILABLE", `redis: ${reason}`, { cause: err });
}
