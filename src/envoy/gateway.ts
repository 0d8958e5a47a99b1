/**
 * The ingress gateway: a streaming HTTP/1.1 reverse proxy that routes like the Envoy istiod
 * configures. Per request: route (404 when nothing matches), weighted destination, the cluster's
 * balancer (the hash from the route's hash policies only when the balancer hashes, so a cookie is
 * generated only then, from this downstream connection's own addresses), persistent-session override,
 * Envoy's host-selection loop with the route's retry policy, then the upstream exchange over
 * keep-alive connections with bodies streamed both ways. Set-Cookie from cookie generation or a
 * session is added only to responses that came from upstream, never to the gateway's own 404/503.
 * Heads of plain GETs are read by the gateway itself (downstream/); Node's HTTP server takes every
 * connection that sends anything else, and both paths meet in `#serve`.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { SessionAffinityError } from "../errors.js";
import { type RandomSource, seededRandom } from "../lb/random-source.js";
import { type Cluster, statusClass } from "./cluster.js";
import type { DownstreamResponse } from "./downstream/downstream-response.js";
import { writeLocalReply } from "./downstream/local-reply.js";
import { NodeConnections } from "./downstream/node-connections.js";
import { RawConnection, type RawConnectionHost } from "./downstream/raw-connection.js";
import type { RawResponse } from "./downstream/raw-response.js";
import type { SimpleRequestHead } from "./downstream/request-head.js";
import { type Refusal, type RequestView, requestView, simpleRequestView } from "./downstream/request-view.js";
import { Exchange, type ExchangeHost } from "./exchange.js";
import { pickDestination, type RouteConfig, type RouteTable, routeRequest } from "./route-table.js";
import { UpgradeExchange, type UpgradeHost } from "./upgrade-exchange.js";
import { ConnectionPool } from "./upstream/connection-pool.js";

export interface GatewaySnapshot {
  /** The route table of the listener on the gateway's port, read from the snapshot's LDS and RDS. */
  readonly routes: RouteTable;
  readonly clusters: ReadonlyMap<string, Cluster>;
}

export interface GatewayOptions {
  readonly host?: string;
  readonly port: number;
  /** The current configuration; read once per request, so a push applies to the next request. */
  readonly snapshot: () => GatewaySnapshot;
  readonly random?: RandomSource;
  /** Envoy's per-request buffer limit: a larger request body cannot be replayed on a retry. */
  readonly retryBufferBytes?: number;
  /**
   * A client that has not sent its whole request head by then is cut off (Envoy's
   * `request_headers_timeout`, which Envoy's edge guidance sets to 10 s). Default 10 s.
   */
  readonly headersTimeoutMs?: number;
  /**
   * A client that has not sent its whole request (head and body) by then gets 408. Default none, as
   * Istio sets no `request_timeout` (nor a stream idle timeout): a stalled upload is ended by the
   * pod's own request timeout, whose answer the gateway passes on.
   */
  readonly requestTimeoutMs?: number;
}

export interface DownstreamStats {
  rqTotal: number;
  rqActive: number;
  noRoute: number;
  /** Local replies by Envoy response flag. */
  responseFlags: Record<string, number>;
  byClass: Record<"1xx" | "2xx" | "3xx" | "4xx" | "5xx", number>;
}

/** Envoy's HTTP/1 default, which Istio leaves alone: 60 KiB of request headers. */
const MAX_REQUEST_HEADER_BYTES = 60 * 1024;
const KEEP_ALIVE_TIMEOUT_MS = 60_000;
const HEADERS_TIMEOUT_MS = 10_000;

/**
 * An `Upgrade: h2c` request without its upgrade headers, as Envoy's HTTP/1 codec strips them to serve
 * it as a plain request: `Upgrade`, `HTTP2-Settings`, and their tokens in `Connection`.
 */
function withoutH2cUpgrade(req: IncomingMessage): string {
  let text = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    let value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === "upgrade" || lower === "http2-settings") continue;
    if (lower === "connection") {
      value = value
        .split(",")
        .map((t) => t.trim())
        .filter((t) => t !== "" && !/^(upgrade|http2-settings)$/i.test(t))
        .join(", ");
      if (value === "") continue;
    }
    text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
}

export class IngressGateway implements ExchangeHost, UpgradeHost {
  readonly stats: DownstreamStats = {
    rqTotal: 0,
    rqActive: 0,
    noRoute: 0,
    responseFlags: {},
    byClass: { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
  };
  readonly #options: GatewayOptions;
  readonly #server: Server;
  readonly pool = new ConnectionPool();
  readonly retryBufferBytes: number;
  readonly #random: RandomSource;
  readonly #sockets = new Set<Socket>();
  /** The connections Node's parser reads: responses under way, closing ones, parse errors. */
  readonly #connections = new NodeConnections((status, flags) => {
    this.stats.rqTotal++;
    this.countLocal(status, flags);
  });
  readonly #guarded = new WeakSet<Socket>();
  #port = 0;
  readonly #nodeConnection: (socket: Socket) => void;
  readonly #raw: RawConnectionHost;
  readonly #rawConnections = new Set<RawConnection>();
  #sweeper: NodeJS.Timeout | undefined;
  /** A head is cut by the shorter of the headers and request timeouts that are set, as Node cuts one. */
  readonly #headTimeoutMs: number | undefined;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.retryBufferBytes = options.retryBufferBytes ?? 1024 * 1024;
    const headLimits = [options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS, options.requestTimeoutMs ?? 0];
    const set = headLimits.filter((ms) => ms > 0);
    this.#headTimeoutMs = set.length === 0 ? undefined : Math.min(...set);
    this.#random = options.random ?? seededRandom(Date.now());
    // The headers timeout is set on its own: Node would otherwise derive it from requestTimeout, and a
    // slowloris client could hold a connection forever. The check runs every second, not every 30.
    this.#server = createServer(
      {
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        // Node's own limit (16 KiB) would refuse requests Envoy forwards.
        maxHeaderSize: MAX_REQUEST_HEADER_BYTES,
        // Node would answer a head without Host itself and go on parsing what is pipelined behind it.
        requireHostHeader: false,
        headersTimeout: options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
        requestTimeout: options.requestTimeoutMs ?? 0,
        connectionsCheckingInterval: 1000,
      },
      (req, res) => this.#handle(req, res),
    );
    // Without a listener Node drops a CONNECT silently. Envoy without CONNECT support in its upgrade
    // configs refuses it with a local 403 (response code details upgrade_failed; there is no flag).
    this.#server.on("connect", (_req: IncomingMessage, socket: Socket) => {
      socket.on("error", () => {});
      this.stats.rqTotal++;
      this.countLocal(403, "");
      writeLocalReply(socket, 403, "");
    });
    this.#server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
    this.#server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) =>
      this.#connections.clientError(error, socket),
    );
    // Node's own connection handler runs only for connections handed to it (see RawConnection).
    const nodeListeners = this.#server.listeners("connection") as ((socket: Socket) => void)[];
    this.#server.removeAllListeners("connection");
    this.#nodeConnection = (socket) => {
      for (const listener of nodeListeners) listener.call(this.#server, socket);
    };
    this.#server.on("connection", (socket: Socket) => this.#accept(socket));
    this.#raw = {
      maxHeadBytes: MAX_REQUEST_HEADER_BYTES,
      keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
      request: (head, response, socket) => this.#handleSimple(head, response, socket),
      handOff: (socket, bytes) => this.#toNode(socket, bytes),
      forget: (connection) => this.#rawConnections.delete(connection),
    };
  }

  #accept(socket: Socket): void {
    // Envoy listens only where LDS put a listener: before one exists a connection gets no HTTP at all.
    // The port stays bound here (so it is checked at start), so it is reset, not refused.
    if (this.#options.snapshot().routes.listener === undefined) {
      socket.resetAndDestroy();
      return;
    }
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    this.#rawConnections.add(new RawConnection(socket, this.#raw));
  }

  /** Node's HTTP server serves the connection from here, `bytes` (read, not consumed) first. */
  #toNode(socket: Socket, bytes: Buffer | undefined): void {
    if (bytes !== undefined) socket.unshift(bytes);
    this.#nodeConnection(socket);
  }

  /** Node's check of its connections' timeouts, for the connections read here. */
  #sweep(): void {
    if (this.#headTimeoutMs === undefined) return;
    const now = performance.now();
    for (const connection of this.#rawConnections) connection.sweep(now, this.#headTimeoutMs);
  }

  get port(): number {
    return this.#port;
  }

  async listen(): Promise<void> {
    const host = this.#options.host ?? "127.0.0.1";
    // Node's default backlog (511) overflows when a thousand clients connect at once: their handshakes
    // stall for seconds or are reset. Envoy's listener takes net.core.somaxconn, which caps this too.
    this.#server.listen({ port: this.#options.port, host, backlog: 65_535 });
    try {
      await once(this.#server, "listening");
    } catch (err) {
      throw new SessionAffinityError(
        "ERR_RUNTIME",
        `gateway: cannot listen on ${host}:${this.#options.port}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#sweeper = setInterval(() => this.#sweep(), 1000).unref();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    clearInterval(this.#sweeper);
    this.#server.closeIdleConnections();
    for (const socket of this.#sockets) socket.destroy();
    this.pool.close();
    await closed;
  }

  #draw(total: number): number {
    return Number(this.#random() % BigInt(total));
  }

  /** A reply of the gateway itself; `flags` are Envoy's response flags (NR, UH, UF…), counted when set. */
  #local(res: DownstreamResponse, status: number, body: string, flags: string): void {
    this.countLocal(status, flags);
    res.writeHead(status, [
      "content-length",
      String(Buffer.byteLength(body)),
      ...(body ? ["content-type", "text/plain"] : []),
      // Envoy marks a request its circuit breakers dropped (suppress_envoy_headers is off in Istio);
      // a retry they refused (UF,UO and the like) is not such a drop.
      ...(flags === "UO" ? ["x-envoy-overloaded", "true"] : []),
      "server",
      "istio-envoy",
    ]);
    res.end(body);
  }

  /** A request Node's server parsed. */
  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.#connections.request(req, res)) {
      // RFC 9112 §9.6: once a response says close, no later request on the connection is processed.
      req.resume();
      return;
    }
    const socket = req.socket;
    const method = req.method ?? "GET";
    const view = requestView(req.rawHeaders, method, req.url ?? "/", req.httpVersion === "1.1");
    this.#serve(method, socket, req, res, view, () => this.#connections.close(socket));
  }

  /** A request the gateway's own reader took: no body, no upgrade, and its connection is its own. */
  #handleSimple(head: SimpleRequestHead, res: RawResponse, socket: Socket): void {
    const view = simpleRequestView(head.headers, head.authority, head.target);
    this.#serve(head.method, socket, undefined, res, view, undefined);
  }

  /**
   * Either parser's request from here on. `body` is where a request body comes from (none for the
   * gateway's own reader); `closing` marks the connection when a refusal closes it.
   */
  #serve(
    method: string,
    socket: Socket,
    body: IncomingMessage | undefined,
    res: DownstreamResponse,
    view: RequestView,
    closing: (() => void) | undefined,
  ): void {
    this.stats.rqTotal++;
    this.stats.rqActive++;
    let exchange: Exchange | undefined;
    res.once("close", () => {
      this.stats.rqActive--;
      exchange?.downstreamClosed();
    });
    const admitted = this.#admit(method, view, undefined);
    if ("status" in admitted) {
      body?.resume();
      if (admitted.close) {
        res.shouldKeepAlive = false;
        closing?.();
      }
      this.#local(res, admitted.status, admitted.body, admitted.flags);
      return;
    }
    const { route, cluster, path } = admitted;
    exchange = new Exchange(this, { method, socket, body }, res, route, cluster, {
      path,
      headers: view.headers,
      framing: view.framing,
    });
    exchange.start();
  }

  /**
   * What Envoy decides before its router, in its order, for plain requests and upgrades alike: the
   * head's own refusals (request-view.ts), a matching route, and for an upgrade (`upgrade` is its
   * protocol) a configured kind; then the route's destination cluster, drawn for weighted routes.
   * The route and cluster the request takes, or the local reply that refuses it.
   */
  #admit(
    method: string,
    view: RequestView,
    upgrade: string | undefined,
  ): { route: RouteConfig; cluster: Cluster; path: string } | Refusal {
    if (view.refusal !== undefined) return view.refusal;
    // A head nothing refuses has a normalized path.
    const path = view.path as string;
    const { routes, clusters } = this.#options.snapshot();
    const route = routeRequest(routes, {
      method,
      path,
      authority: view.authority,
      headers: view.headers,
    });
    if (!route) {
      this.stats.noRoute++;
      return { status: 404, body: "", flags: "NR" };
    }
    // Envoy's upgrade_failed: the route matched, but upgrades of this kind are not configured.
    if (upgrade !== undefined && upgrade !== "websocket") return { status: 403, body: "", flags: "" };
    const clusterName = pickDestination(route, (total) => this.#draw(total));
    const cluster = clusterName === undefined ? undefined : clusters.get(clusterName);
    if (!cluster) return { status: 503, body: "no healthy upstream", flags: "UH" };
    return { route, cluster, path };
  }

  local(res: DownstreamResponse, status: number, body: string, flags: string): void {
    this.#local(res, status, body, flags);
  }

  countLocal(status: number, flags: string): void {
    if (flags) this.stats.responseFlags[flags] = (this.stats.responseFlags[flags] ?? 0) + 1;
    this.stats.byClass[statusClass(status)]++;
  }

  /**
   * A request with `Connection: upgrade` and an `Upgrade` header. Istio configures Envoy for
   * `websocket` only: a WebSocket is routed and tunnelled; `h2c` is served as a plain request
   * without its upgrade headers (Envoy's HTTP/1 codec strips them); any other protocol gets 403.
   */
  #upgrade(req: IncomingMessage, socket: Socket, early: Buffer): void {
    if (!this.#guarded.has(socket)) {
      this.#guarded.add(socket);
      socket.on("error", () => {});
    }
    // RFC 9112 §9.6: after a response that said close, nothing more on the connection is served.
    if (this.#connections.closing(socket)) return;
    // Pipelined behind a request still being answered: Envoy reads it only once that answer is out.
    if (this.#connections.answering(socket)) {
      this.#connections.afterAnswers(socket, () => this.#upgrade(req, socket, early));
      return;
    }
    const protocol = (req.headers.upgrade ?? "").trim().toLowerCase();
    if (protocol === "h2c") {
      // Back into Node's HTTP server as the plain request Envoy would see.
      this.#toNode(socket, Buffer.concat([Buffer.from(withoutH2cUpgrade(req), "latin1"), early]));
      return;
    }
    this.stats.rqTotal++;
    this.stats.rqActive++;
    socket.once("close", () => this.stats.rqActive--);
    const method = req.method ?? "GET";
    const view = requestView(req.rawHeaders, method, req.url ?? "/", req.httpVersion === "1.1");
    const admitted = this.#admit(method, view, protocol);
    if ("status" in admitted) {
      this.countLocal(admitted.status, admitted.flags);
      writeLocalReply(socket, admitted.status, admitted.body);
      return;
    }
    const { route, cluster, path } = admitted;
    new UpgradeExchange(this, socket, early, route, cluster, {
      method,
      path,
      headers: view.headers,
    }).start();
  }

  countUpstream(status: number): void {
    this.stats.byClass[statusClass(status)]++;
  }

  /**
   * Envoy's jittered back-off (JitteredExponentialBackOffStrategy): attempt n waits up to
   * (2^n − 1)·base, capped at 10·base (the max_interval Envoy derives when none is set).
   */
  backoffMs(retry: number, baseMs: number): number {
    const ceiling = Math.min(10 * baseMs, (2 ** retry - 1) * baseMs);
    return Number(this.#random() % BigInt(Math.max(1, Math.round(ceiling))));
  }
}
