/**
 * Keep-alive HTTP/1.1 connections to upstream endpoints, one pool per cluster and `ip:port`, as
 * Envoy's per-host connection pools: a request takes the most recently used idle connection (LIFO
 * keeps few connections warm) or opens a new one. A connection that has carried the cluster's
 * `max_requests_per_connection` is closed instead of pooled; one idle for the cluster's idle timeout
 * is closed. An idle connection the upstream closes leaves the pool when
 * the close arrives; one idle for longer than the upstream's advertised `Keep-Alive: timeout` minus a
 * second is not reused, so a request is never written into a connection the upstream is about to close.
 * Each socket has one set of listeners for its whole life, forwarding to the request using it.
 *
 * A request that finds no idle connection waits, as a pending request of Envoy's pool, for the next
 * connection of its host to become free: one opened for it (when the cluster's circuit breakers
 * allow another connection, or the host has none at all) or one another request gives back, first
 * come first served. The cluster's circuit breakers refuse a request (an overflow) when max_requests
 * are on connections as it would take one, or max_pending_requests already wait. A connect that
 * fails fails every request waiting for the host, as Envoy purges its pending requests then.
 * WebSocket upgrades take a connection at once (`acquire`), outside the circuit breakers.
 */
import { connect, type Socket } from "node:net";
import type { CircuitBreakers } from "./circuit-breakers.js";

/** The request currently using a connection. */
export interface ConnectionUser {
  data(chunk: Buffer): void;
  /** The socket's write buffer emptied. */
  drain(): void;
  /** The connection ended or failed while this user held it. */
  closed(error: NodeJS.ErrnoException | undefined): void;
}

export interface PoolOptions {
  /** Envoy's cluster `connect_timeout`; Istio's default is 10 s. */
  readonly connectTimeoutMs?: number;
  /** Longest a connection stays idle in the pool. Default 1 h, Envoy's upstream `idle_timeout`. */
  readonly idleTimeoutMs?: number;
}

/** A request waiting for a connection of its host. */
export interface PendingUser extends ConnectionUser {
  /** The connection is this user's now: an idle one, or one that has just connected. */
  attached(connection: UpstreamConnection): void;
  /** Refused by the cluster's circuit breakers (Envoy's overflow); called after `request` returns. */
  overflowed(): void;
  /** A connect of the host failed while this request waited: every waiting request fails with it. */
  connectFailed(error: NodeJS.ErrnoException | undefined): void;
}

/** A cluster's settings for its connections (Istio's `connectionPool`); unset ones take the pool's. */
export interface ClusterPoolSettings extends PoolOptions {
  /** Connections are pooled per cluster: the cluster's name. */
  readonly cluster?: string;
  /** Requests a connection carries before it is closed (Envoy's max_requests_per_connection). */
  readonly maxRequestsPerConnection?: number;
  /** The cluster's circuit breakers; without them nothing is limited. */
  readonly breakers?: CircuitBreakers;
  /**
   * Where to connect for a host's address, when it is served elsewhere (a replayed proxy's endpoint
   * stands for a real pod's address and is served by a local replica); the address itself otherwise.
   */
  readonly dial?: (address: string) => string;
}

/**
 * A waiting request and the circuit breakers it was counted in: a cluster deleted and applied again
 * under the same name has new ones, and each count is given back where it was taken.
 */
interface Waiting {
  readonly user: PendingUser;
  readonly breakers: CircuitBreakers | undefined;
}

/** One host's connections (of one cluster) and the requests waiting for them. */
interface HostPool {
  readonly key: string;
  readonly address: string;
  /** The settings of the host's latest request, for the connections opened for those waiting. */
  settings: ClusterPoolSettings;
  readonly idle: UpstreamConnection[];
  readonly waiting: Waiting[];
  /** Connections open or opening, and of those the ones still opening. */
  open: number;
  connecting: number;
}

const KEEP_ALIVE_MARGIN_MS = 1000;

/** Connections are pooled per cluster (when named) and address. */
function poolKey(address: string, cluster: string | undefined): string {
  return cluster === undefined ? address : `${cluster} ${address}`;
}

export class UpstreamConnection {
  readonly socket: Socket;
  readonly address: string;
  /** The pool it belongs to: cluster and address. */
  readonly key: string;
  readonly settings: ClusterPoolSettings;
  /** The cluster's idle timeout, or the pool's. */
  readonly idleTimeoutMs: number;
  /** Whether the TCP handshake completed (a failure before it is a connect failure). */
  connected = false;
  /** Requests this connection carried before the current one. */
  uses = 0;
  #user: ConnectionUser | undefined;
  /** The circuit breakers the current user's request is counted in. */
  #userBreakers: CircuitBreakers | undefined;
  /** A WebSocket upgrade's own connection, outside the pool's queue. */
  readonly dedicated: boolean;
  idleSince = 0;
  idleLimitMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    address: string,
    key: string,
    settings: ClusterPoolSettings,
    options: Required<PoolOptions>,
    events: {
      connected(c: UpstreamConnection): void;
      gone(c: UpstreamConnection, error?: NodeJS.ErrnoException): void;
    },
    dedicated = false,
  ) {
    this.dedicated = dedicated;
    this.address = address;
    this.key = key;
    this.settings = settings;
    this.idleTimeoutMs = options.idleTimeoutMs;
    this.idleLimitMs = options.idleTimeoutMs;
    const target = settings.dial?.(address) ?? address;
    const colon = target.lastIndexOf(":");
    const host = target.slice(0, colon).replace(/^\[|\]$/g, "");
    const socket = connect({ host, port: Number(target.slice(colon + 1)), noDelay: true });
    this.socket = socket;
    this.#timer = setTimeout(() => {
      const error: NodeJS.ErrnoException = new Error("connect timeout");
      error.code = "ETIMEDOUT";
      socket.destroy(error);
    }, options.connectTimeoutMs);
    socket.once("connect", () => {
      this.connected = true;
      clearTimeout(this.#timer);
      events.connected(this);
    });
    socket.on("data", (chunk: Buffer) => {
      if (this.#user) this.#user.data(chunk);
      else socket.destroy(); // an idle connection must stay silent
    });
    socket.on("drain", () => this.#user?.drain());
    socket.once("end", () => socket.destroy());
    let gone = false;
    const onGone = (error?: NodeJS.ErrnoException) => {
      if (gone) return;
      gone = true;
      clearTimeout(this.#timer);
      events.gone(this, error);
    };
    socket.once("error", onGone);
    socket.once("close", () => onGone());
  }

  /** The request using the connection, if any. */
  get user(): ConnectionUser | undefined {
    return this.#user;
  }

  /** `user` takes the connection: a request on a connection, for `breakers`' max_requests. */
  attach(user: ConnectionUser, breakers: CircuitBreakers | undefined): void {
    this.detach();
    this.#user = user;
    this.#userBreakers = breakers;
    if (breakers !== undefined) breakers.requests++;
  }

  /** Whoever used the connection is done with it. */
  detach(): void {
    if (this.#user === undefined) return;
    this.#user = undefined;
    const breakers = this.#userBreakers;
    this.#userBreakers = undefined;
    if (breakers !== undefined) breakers.requests--;
  }
}

export class ConnectionPool {
  readonly #options: Required<PoolOptions>;
  readonly #hosts = new Map<string, HostPool>();
  /** Connections ever opened per cluster and host (Envoy's per-host cx_total), kept when the pool empties. */
  readonly #opened = new Map<string, number>();
  readonly #all = new Set<UpstreamConnection>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: PoolOptions = {}) {
    this.#options = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 3_600_000,
    };
    this.#sweeper = setInterval(() => this.#sweep(), 5000);
    this.#sweeper.unref();
  }

  /**
   * A connection for a request to `address`: an idle one of the cluster's at once (`user.attached`
   * before this returns), or the next to become free, or an overflow (`user.overflowed`, after this
   * returns) when the cluster's circuit breakers say so.
   */
  request(address: string, user: PendingUser, settings: ClusterPoolSettings = {}): void {
    const host = this.#host(address, settings);
    const breakers = settings.breakers;
    const idle = this.#takeIdle(host);
    if (idle !== undefined) {
      if (breakers !== undefined && !breakers.canRequest()) {
        // Back among the idle ones, untouched: the refused request did not use it.
        host.idle.push(idle);
        this.#overflow(user, breakers);
        return;
      }
      idle.uses++;
      idle.attach(user, breakers);
      user.attached(idle);
      return;
    }
    if (breakers !== undefined && !breakers.canQueue()) {
      this.#overflow(user, breakers);
      return;
    }
    host.waiting.push({ user, breakers });
    if (breakers) breakers.pendingRequests++;
    this.#openFor(host);
  }

  /** A waiting request gives up (its client left, its timeout passed). */
  cancel(address: string, user: PendingUser, settings: ClusterPoolSettings = {}): void {
    const host = this.#hosts.get(poolKey(address, settings.cluster));
    const at = host?.waiting.findIndex((w) => w.user === user) ?? -1;
    if (host === undefined || at < 0) return;
    const [gone] = host.waiting.splice(at, 1);
    if (gone?.breakers) gone.breakers.pendingRequests--;
  }

  /**
   * A connection for `user` at once, outside the circuit breakers: an idle one, or a new one whose
   * writes queue until it connects (a WebSocket upgrade's). Gives up after the connect timeout.
   */
  acquire(address: string, user: ConnectionUser, settings: ClusterPoolSettings = {}): UpstreamConnection {
    const host = this.#host(address, settings);
    const idle = this.#takeIdle(host);
    if (idle !== undefined) {
      idle.uses++;
      idle.attach(user, settings.breakers);
      return idle;
    }
    const connection = this.#open(host, true);
    connection.attach(user, settings.breakers);
    return connection;
  }

  /** Back to the pool after a complete exchange; `keepAliveTimeoutMs` is the upstream's hint. */
  release(connection: UpstreamConnection, keepAliveTimeoutMs: number | undefined): void {
    connection.detach();
    if (connection.socket.destroyed) return;
    const max = connection.settings.maxRequestsPerConnection;
    if (max !== undefined && max > 0 && connection.uses + 1 >= max) {
      connection.socket.destroy();
      return;
    }
    // Whoever paused it for backpressure is done with it; the next user must see its response.
    if (connection.socket.isPaused()) connection.socket.resume();
    if (keepAliveTimeoutMs !== undefined)
      connection.idleLimitMs = Math.min(connection.idleTimeoutMs, keepAliveTimeoutMs - KEEP_ALIVE_MARGIN_MS);
    const host = this.#hosts.get(connection.key);
    if (host !== undefined) this.#free(host, connection, true);
  }

  /** Idle connections to an address (of one cluster, when named), for stats and tests. */
  idleCount(address: string, cluster?: string): number {
    return this.#hosts.get(poolKey(address, cluster))?.idle.length ?? 0;
  }

  /** Connections to an address of a cluster: open now, and ever opened. */
  connectionCounts(address: string, cluster: string): { active: number; total: number } {
    const host = this.#hosts.get(poolKey(address, cluster));
    return { active: host?.open ?? 0, total: this.#opened.get(poolKey(address, cluster)) ?? 0 };
  }

  /** Requests waiting for a connection to an address (of one cluster, when named). */
  waitingCount(address: string, cluster?: string): number {
    return this.#hosts.get(poolKey(address, cluster))?.waiting.length ?? 0;
  }

  close(): void {
    clearInterval(this.#sweeper);
    // Requests still waiting are let go (the gateway is closing their clients' connections).
    for (const host of this.#hosts.values())
      for (const { breakers } of host.waiting.splice(0)) if (breakers) breakers.pendingRequests--;
    for (const connection of this.#all) connection.socket.destroy();
    this.#all.clear();
    this.#hosts.clear();
  }

  #host(address: string, settings: ClusterPoolSettings): HostPool {
    const key = poolKey(address, settings.cluster);
    let host = this.#hosts.get(key);
    if (host === undefined) {
      host = { key, address, settings, idle: [], waiting: [], open: 0, connecting: 0 };
      this.#hosts.set(key, host);
    } else host.settings = settings;
    return host;
  }

  /** The most recently used idle connection still fit for use; unfit ones are closed on the way. */
  #takeIdle(host: HostPool): UpstreamConnection | undefined {
    const idle = host.idle;
    const now = idle.length > 0 ? performance.now() : 0;
    while (idle.length > 0) {
      const connection = idle.pop() as UpstreamConnection;
      if (now - connection.idleSince < connection.idleLimitMs && !connection.socket.destroyed)
        return connection;
      connection.socket.destroy();
    }
    return undefined;
  }

  #overflow(user: PendingUser, breakers: CircuitBreakers): void {
    breakers.rqPendingOverflow++;
    queueMicrotask(() => user.overflowed());
  }

  /** Opens connections for the waiting requests that no connection being opened will serve. */
  #openFor(host: HostPool): void {
    while (host.waiting.length > host.connecting) {
      const breakers = host.settings.breakers;
      // Envoy opens one anyway for a host with no connection at all, or its requests would never go.
      if (breakers !== undefined && !breakers.canConnect()) {
        breakers.cxOverflow++;
        if (host.open === 0) this.#open(host);
        return;
      }
      this.#open(host);
    }
  }

  /** A new connection; a `dedicated` one (an upgrade's) serves no waiting request. */
  #open(host: HostPool, dedicated = false): UpstreamConnection {
    const settings = host.settings;
    const options = {
      connectTimeoutMs: settings.connectTimeoutMs ?? this.#options.connectTimeoutMs,
      idleTimeoutMs: settings.idleTimeoutMs ?? this.#options.idleTimeoutMs,
    };
    const events = {
      connected: (c: UpstreamConnection) => {
        if (c.dedicated) return;
        host.connecting--;
        this.#free(host, c, false);
      },
      gone: (c: UpstreamConnection, error?: NodeJS.ErrnoException) => this.#gone(host, c, error),
    };
    const connection = new UpstreamConnection(host.address, host.key, settings, options, events, dedicated);
    host.open++;
    this.#opened.set(host.key, (this.#opened.get(host.key) ?? 0) + 1);
    if (!dedicated) host.connecting++;
    if (settings.breakers) settings.breakers.connections++;
    this.#all.add(connection);
    return connection;
  }

  /** A connection is free (connected, or given back): to the first waiting request, else idle. */
  #free(host: HostPool, connection: UpstreamConnection, reused: boolean): void {
    while (host.waiting.length > 0) {
      const { user, breakers } = host.waiting.shift() as Waiting;
      if (breakers !== undefined) {
        breakers.pendingRequests--;
        if (!breakers.canRequest()) {
          breakers.rqPendingOverflow++;
          user.overflowed();
          continue;
        }
      }
      if (reused) connection.uses++;
      connection.attach(user, breakers);
      user.attached(connection);
      return;
    }
    connection.idleSince = performance.now();
    host.idle.push(connection);
  }

  #gone(host: HostPool, connection: UpstreamConnection, error: NodeJS.ErrnoException | undefined): void {
    this.#all.delete(connection);
    host.open--;
    const breakers = connection.settings.breakers;
    if (breakers) breakers.connections--;
    const at = host.idle.indexOf(connection);
    if (at >= 0) host.idle.splice(at, 1);
    const user = connection.user;
    connection.detach();
    if (!connection.connected && !connection.dedicated) {
      host.connecting--;
      // Envoy purges the host's pending requests on a connect failure, so each can be retried.
      const purged = host.waiting.splice(0);
      for (const waiting of purged) if (waiting.breakers) waiting.breakers.pendingRequests--;
      for (const waiting of purged) waiting.user.connectFailed(error);
    }
    user?.closed(error);
    if (host.waiting.length > 0 && this.#hosts.get(host.key) === host) this.#openFor(host);
    else if (host.open === 0 && host.waiting.length === 0 && this.#hosts.get(host.key) === host)
      this.#hosts.delete(host.key);
  }

  #sweep(): void {
    const now = performance.now();
    for (const host of this.#hosts.values()) {
      for (const connection of [...host.idle]) {
        if (now - connection.idleSince >= connection.idleLimitMs) connection.socket.destroy();
      }
    }
  }
}
