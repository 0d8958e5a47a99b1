import type { SessionHit, SessionStore } from "./session-store.js";

/** Seconds since this store started: small enough to stay a V8 small integer, unlike epoch seconds. */
type Clock = () => number;

interface Entry {
  /** The stored key, so re-inserting after a hit reuses it instead of a string sliced from a header. */
  readonly id: string;
  count: number;
  expiresAt: number;
}

export interface MemoryStoreOptions {
  maxSessions: number;
  ttlSeconds: number;
  /** Injected for tests; defaults to a monotonic clock in seconds. */
  now?: Clock;
}

/**
 * Sessions in a Map kept in least-recently-used order: every hit deletes and re-inserts its entry, so
 * the first entries are always the oldest. That makes eviction O(1) (drop the first) and lets expired
 * sessions be reclaimed by walking from the front until the first live one, never a full scan.
 * Node runs JavaScript on one thread, so a synchronous read-modify-write is already exactly-once.
 */
export class MemoryStore implements SessionStore {
  readonly kind = "memory" as const;
  readonly #sessions = new Map<string, Entry>();
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: Clock;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions) {
    this.#max = options.maxSessions;
    this.#ttl = options.ttlSeconds;
    const start = performance.now();
    this.#now = options.now ?? (() => Math.floor((performance.now() - start) / 1000));
    this.#sweeper = setInterval(() => this.reclaimExpired(1024), 1000);
    this.#sweeper.unref();
  }

  hit(id: string | undefined, freshId: () => string): Promise<SessionHit> {
    return Promise.resolve(this.hitSync(id, freshId));
  }

  hitSync(id: string | undefined, freshId: () => string): SessionHit {
    const now = this.#now();
    if (id !== undefined) {
      const entry = this.#sessions.get(id);
      if (entry !== undefined) {
        this.#sessions.delete(id);
        if (entry.expiresAt > now) {
          entry.count += 1;
          entry.expiresAt = now + this.#ttl;
          this.#sessions.set(entry.id, entry);
          return { id: entry.id, count: entry.count, created: false };
        }
      }
    }
    const fresh = freshId();
    this.#sessions.set(fresh, { id: fresh, count: 1, expiresAt: now + this.#ttl });
    if (this.#sessions.size > this.#max) this.#evictOldest();
    return { id: fresh, count: 1, created: true };
  }

  peek(id: string): Promise<number | undefined> {
    const entry = this.#sessions.get(id);
    return Promise.resolve(entry !== undefined && entry.expiresAt > this.#now() ? entry.count : undefined);
  }

  size(): number {
    return this.#sessions.size;
  }

  /** Drops expired sessions from the old end, at most `limit` of them; returns how many. */
  reclaimExpired(limit: number): number {
    const now = this.#now();
    let dropped = 0;
    for (const [id, entry] of this.#sessions) {
      if (dropped >= limit || entry.expiresAt > now) break;
      this.#sessions.delete(id);
      dropped++;
    }
    return dropped;
  }

  #evictOldest(): void {
    const oldest = this.#sessions.keys().next();
    if (!oldest.done) this.#sessions.delete(oldest.value);
  }

  close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sessions.clear();
    return Promise.resolve();
  }
}
