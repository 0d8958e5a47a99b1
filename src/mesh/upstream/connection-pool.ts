/**
 * Keep-alive HTTP/1.1 connections to upstream endpoints, one pool per cluster and `ip:port`, as
 * Envoy's per-host connection pools: a request takes the most recently used idle connection (LIFO
 * keeps few connections warm) or opens a new one. A connection that has carried the cluster's
 * `max_requests_per_connection` is closed instead of pooled; one idle for the cluster's idle timeout
 * is closed. An idle connection the upstream closes leaves the pool when
 * the close arrives; one idle for longer than the upstream's advertised `Keep-Alive: timeout` minus a
 * second is not reused, so a request is never written into a connection the upstream is about to close.
 * Each socket has one set of listeners for its whole life, forwarding to the request using it.
 */
import { connect, type Socket } from "node:net";

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

/** A cluster's settings for its connections (Istio's `connectionPool`); unset ones take the pool's. */
export interface ClusterPoolSettings extends PoolOptions {
  /** Connections are pooled per cluster: the cluster's name. */
  readonly cluster?: string;
  /** Requests a connection carries before it is closed (Envoy's max_requests_per_connection). */
  readonly maxRequestsPerConnection?: number;
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
  user: ConnectionUser | undefined;
  idleSince = 0;
  idleLimitMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    address: string,
    key: string,
    settings: ClusterPoolSettings,
    options: Required<PoolOptions>,
    onGone: (c: UpstreamConnection) => void,
  ) {
    this.address = address;
    this.key = key;
    this.settings = settings;
    this.idleTimeoutMs = options.idleTimeoutMs;
    this.idleLimitMs = options.idleTimeoutMs;
    const colon = address.lastIndexOf(":");
    const host = address.slice(0, colon).replace(/^\[|\]$/g, "");
    const socket = connect({ host, port: Number(address.slice(colon + 1)), noDelay: true });
    this.socket = socket;
    this.#timer = setTimeout(() => {
      const error: NodeJS.ErrnoException = new Error("connect timeout");
      error.code = "ETIMEDOUT";
      socket.destroy(error);
    }, options.connectTimeoutMs);
    socket.once("connect", () => {
      this.connected = true;
      clearTimeout(this.#timer);
    });
    socket.on("data", (chunk: Buffer) => {
      if (this.user) this.user.data(chunk);
      else socket.destroy(); // an idle connection must stay silent
    });
    socket.on("drain", () => this.user?.drain());
    socket.once("end", () => socket.destroy());
    socket.once("error", (error: NodeJS.ErrnoException) => this.#gone(error, onGone));
    socket.once("close", () => this.#gone(undefined, onGone));
  }

  #gone(error: NodeJS.ErrnoException | undefined, onGone: (c: UpstreamConnection) => void): void {
    clearTimeout(this.#timer);
    onGone(this);
    const user = this.user;
    this.user = undefined;
    user?.closed(error);
  }
}

export class ConnectionPool {
  readonly #options: Required<PoolOptions>;
  readonly #idle = new Map<string, UpstreamConnection[]>();
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
   * A connection for `user`: an idle one of the cluster to `address`, or a new one (writes queue until
   * connected) that gives up after the cluster's connect timeout (the pool's default otherwise).
   */
  acquire(address: string, user: ConnectionUser, settings: ClusterPoolSettings = {}): UpstreamConnection {
    const key = poolKey(address, settings.cluster);
    const idle = this.#idle.get(key);
    const now = idle?.length ? performance.now() : 0;
    while (idle?.length) {
      const connection = idle.pop() as UpstreamConnection;
      if (now - connection.idleSince < connection.idleLimitMs && !connection.socket.destroyed) {
        connection.uses++;
        connection.user = user;
        return connection;
      }
      connection.socket.destroy();
    }
    const options = {
      connectTimeoutMs: settings.connectTimeoutMs ?? this.#options.connectTimeoutMs,
      idleTimeoutMs: settings.idleTimeoutMs ?? this.#options.idleTimeoutMs,
    };
    const connection = new UpstreamConnection(address, key, settings, options, (c) => this.#forget(c));
    this.#all.add(connection);
    connection.user = user;
    return connection;
  }

  /** Back to the pool after a complete exchange; `keepAliveTimeoutMs` is the upstream's hint. */
  release(connection: UpstreamConnection, keepAliveTimeoutMs: number | undefined): void {
    connection.user = undefined;
    if (connection.socket.destroyed) return;
    const max = connection.settings.maxRequestsPerConnection;
    if (max !== undefined && max > 0 && connection.uses + 1 >= max) {
      connection.socket.destroy();
      return;
    }
    // Whoever paused it for backpressure is done with it; the next user must see its response.
    if (connection.socket.isPaused()) connection.socket.resume();
    connection.idleSince = performance.now();
    if (keepAliveTimeoutMs !== undefined)
      connection.idleLimitMs = Math.min(connection.idleTimeoutMs, keepAliveTimeoutMs - KEEP_ALIVE_MARGIN_MS);
    let idle = this.#idle.get(connection.key);
    if (!idle) {
      idle = [];
      this.#idle.set(connection.key, idle);
    }
    idle.push(connection);
  }

  /** Idle connections to an address (of one cluster, when named), for stats and tests. */
  idleCount(address: string, cluster?: string): number {
    return this.#idle.get(poolKey(address, cluster))?.length ?? 0;
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const connection of this.#all) connection.socket.destroy();
    this.#all.clear();
    this.#idle.clear();
  }

  #forget(connection: UpstreamConnection): void {
    this.#all.delete(connection);
    const idle = this.#idle.get(connection.key);
    if (!idle) return;
    const at = idle.indexOf(connection);
    if (at >= 0) idle.splice(at, 1);
    if (idle.length === 0) this.#idle.delete(connection.key);
  }

  #sweep(): void {
    const now = performance.now();
    for (const idle of this.#idle.values()) {
      for (const connection of [...idle]) {
        if (now - connection.idleSince >= connection.idleLimitMs) connection.socket.destroy();
      }
    }
  }
}
