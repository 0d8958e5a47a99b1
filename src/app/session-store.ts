/** What a request did to a session: the id it ended up with and that session's counter. */
export interface SessionHit {
  readonly id: string;
  readonly count: number;
  /** True when `id` was created by this call (the caller must send its cookie). */
  readonly created: boolean;
}

/**
 * Where session state lives. Every implementation counts exactly once per call, even under
 * concurrent calls for the same session, and slides the session's expiry on each hit.
 */
export interface SessionStore {
  readonly kind: "memory" | "redis";
  /**
   * Increments `id`'s counter and refreshes its TTL. When `id` is undefined or unknown (expired,
   * evicted, never issued here), creates `freshId` with count 1 instead.
   */
  hit(id: string | undefined, freshId: () => string): Promise<SessionHit>;
  /**
   * `hit`, answered at once, for a store held in this process's memory: the request is served without
   * waiting for a promise. Absent for stores behind a connection.
   */
  hitSync?(id: string | undefined, freshId: () => string): SessionHit;
  /** The counter without changing it (HEAD is safe), or undefined for no such session. */
  peek(id: string): Promise<number | undefined>;
  /** Sessions held, where the store can tell cheaply (memory), for metrics. */
  size(): number | undefined;
  close(): Promise<void>;
}
