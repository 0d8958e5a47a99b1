/**
 * The ingress gateway: a streaming HTTP/1.1 reverse proxy that routes like the Envoy istiod
 * configures. Per request: route (404 when nothing matches), weighted destination, the cluster's
 * balancer (the hash from the route's hash policies only when the balancer hashes, so a cookie is
 * generated only then, from this downstream connection's own addresses), persistent-session override,
 * Envoy's host-selection loop with the route's retry policy, then the upstream exchange over
 * keep-alive connections with bodies streamed both ways. Set-Cookie from cookie generation or a
 * session is added only to responses that came from upstream, never to the gateway's own 404/503.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import {
  Agent,
  type ClientRequest,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { SessionAffinityError } from "../errors.js";
import { canonicalIp, type SocketAddress } from "../lb/address.js";
import { computeHash } from "../lb/hash-policy.js";
import { type RandomSource, seededRandom } from "../lb/random-source.js";
import { selectHost } from "../lb/retry.js";
import { overrideHost, readSession, sessionResponseHeaders } from "../lb/stateful-session.js";
import type { Cluster } from "./cluster.js";
import type { GatewayConfig, RouteConfig } from "./gateway-config.js";
import { pickDestination, type RouteRequest, routeRequest } from "./routes.js";

export interface GatewaySnapshot {
  readonly config: GatewayConfig;
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
  /** A client that has not sent its whole request (head and body) by then gets 408. Default 15 s. */
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

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the gateway sets itself. */
const DROP_REQUEST = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "upgrade",
  "te",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-request-id",
]);
const DROP_RESPONSE = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "server",
]);

const CONNECT_FAILURES = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ECONNABORTED",
]);

type Failure = { kind: "connect-failure" | "reset" | "timeout"; detail: string };

function statusClass(status: number): "1xx" | "2xx" | "3xx" | "4xx" | "5xx" {
  return `${Math.min(5, Math.max(1, Math.floor(status / 100)))}xx` as "1xx";
}

export class IngressGateway {
  readonly stats: DownstreamStats = {
    rqTotal: 0,
    rqActive: 0,
    noRoute: 0,
    responseFlags: {},
    byClass: { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
  };
  readonly #options: GatewayOptions;
  readonly #server: Server;
  readonly #agent = new Agent({
    keepAlive: true,
    maxSockets: Number.POSITIVE_INFINITY,
    maxFreeSockets: 1024,
    scheduling: "lifo",
  });
  readonly #random: RandomSource;
  readonly #sockets = new Set<Socket>();
  // Connections answered with `connection: close`: requests already pipelined behind are not served.
  readonly #closing = new WeakSet<Socket>();
  #port = 0;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#random = options.random ?? seededRandom(Date.now());
    // Node derives the headers timeout from requestTimeout, so a requestTimeout of 0 switched both off
    // and a slowloris client could hold a connection forever; the check runs every second, not every 30.
    this.#server = createServer(
      {
        keepAliveTimeout: 60_000,
        headersTimeout: options.headersTimeoutMs ?? 10_000,
        requestTimeout: options.requestTimeoutMs ?? 15_000,
        connectionsCheckingInterval: 1000,
      },
      (req, res) => this.#handle(req, res),
    );
    // Without a listener Node drops a CONNECT silently. Envoy without CONNECT support in its upgrade
    // configs refuses it with a local 403.
    this.#server.on("connect", (_req: IncomingMessage, socket: Socket) => {
      this.stats.responseFlags.UPGRADE_FAILED = (this.stats.responseFlags.UPGRADE_FAILED ?? 0) + 1;
      this.stats.byClass["4xx"]++;
      socket.on("error", () => {});
      socket.end(
        "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nserver: istio-envoy\r\nconnection: close\r\n\r\n",
      );
    });
    this.#server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
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
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    for (const socket of this.#sockets) socket.destroy();
    this.#agent.destroy();
    await closed;
  }

  #draw(total: number): number {
    return Number(this.#random() % BigInt(total));
  }

  /** A reply of the gateway itself; `flags` are Envoy's response flags (NR, UH, UF…), counted. */
  #local(res: ServerResponse, status: number, body: string, flags: string): void {
    this.stats.responseFlags[flags] = (this.stats.responseFlags[flags] ?? 0) + 1;
    this.stats.byClass[statusClass(status)]++;
    res.writeHead(status, [
      "content-length",
      String(Buffer.byteLength(body)),
      ...(body ? ["content-type", "text/plain"] : []),
      "server",
      "istio-envoy",
    ]);
    res.end(body);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.#closing.has(req.socket)) {
      // RFC 9112 §9.6: once a response says close, no later request on the connection is processed.
      req.resume();
      return;
    }
    this.stats.rqTotal++;
    this.stats.rqActive++;
    res.once("close", () => this.stats.rqActive--);
    const { config, clusters } = this.#options.snapshot();
    const raw = req.rawHeaders;
    const headers: [string, string][] = [];
    let hosts = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      if (name === "host") hosts++;
      headers.push([name, raw[i + 1] as string]);
    }
    // RFC 9112 §3.2: more than one Host is a 400. Node keeps the first for routing but the raw headers
    // would carry both upstream, where a server that reads the last one sees another virtual host.
    if (hosts > 1) {
      req.resume();
      res.shouldKeepAlive = false;
      this.#closing.add(req.socket);
      this.#local(res, 400, "", "DPE");
      return;
    }
    const routeRequestView: RouteRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      authority: req.headers.host ?? "",
      headers,
    };
    const route = routeRequest(config, routeRequestView);
    if (!route) {
      this.stats.noRoute++;
      req.resume();
      this.#local(res, 404, "", "NR");
      return;
    }
    const clusterName = pickDestination(route, (total) => this.#draw(total));
    const cluster = clusterName === undefined ? undefined : clusters.get(clusterName);
    if (!cluster) {
      req.resume();
      this.#local(res, 503, "no healthy upstream", "UH");
      return;
    }
    new Exchange(
      this,
      req,
      res,
      route,
      cluster,
      headers,
      this.#options.retryBufferBytes ?? 1024 * 1024,
    ).start();
  }

  /** @internal used by Exchange */
  get agent(): Agent {
    return this.#agent;
  }

  /** @internal */
  local(res: ServerResponse, status: number, body: string, flags: string): void {
    this.#local(res, status, body, flags);
  }

  /** @internal Envoy's jittered back-off: base 25 ms, attempt n waits up to (2^n − 1)·25 ms. */
  backoffMs(retry: number): number {
    const ceiling = Math.min(250, (2 ** retry - 1) * 25);
    return Number(this.#random() % BigInt(Math.max(1, ceiling)));
  }
}

/** One downstream request and its upstream attempts. */
class Exchange {
  readonly #gateway: IngressGateway;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #route: RouteConfig;
  readonly #cluster: Cluster;
  readonly #headers: [string, string][];
  readonly #previous = new Set<string>();
  readonly #body: Buffer[] = [];
  readonly #bufferLimit: number;
  #bodyBytes = 0;
  #bodyEnded = false;
  #bodyOverflow = false;
  #hash: bigint | undefined;
  #setCookie: string[] = [];
  #session: { address?: string } | undefined;
  #upstream: ClientRequest | undefined;
  #retries = 0;
  #done = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    gateway: IngressGateway,
    req: IncomingMessage,
    res: ServerResponse,
    route: RouteConfig,
    cluster: Cluster,
    headers: [string, string][],
    bufferLimit: number,
  ) {
    this.#gateway = gateway;
    this.#req = req;
    this.#res = res;
    this.#route = route;
    this.#cluster = cluster;
    this.#headers = headers;
    this.#bufferLimit = bufferLimit;
  }

  start(): void {
    const req = this.#req;
    const socket = req.socket;
    const remote: SocketAddress | undefined =
      socket.remoteAddress === undefined
        ? undefined
        : { ip: socket.remoteAddress, port: socket.remotePort ?? 0 };
    const local: SocketAddress | undefined =
      socket.localAddress === undefined
        ? undefined
        : { ip: socket.localAddress, port: socket.localPort ?? 0 };
    const cluster = this.#cluster;
    if (cluster.hashing) {
      const result = computeHash(this.#route.hashPolicies, {
        headers: this.#headers,
        path: req.url ?? "/",
        remoteAddress: remote,
        localAddress: local,
      });
      this.#hash = result.hash;
      this.#setCookie = result.setCookie ?? [];
    }
    if (cluster.config.session) {
      const session = readSession(cluster.config.session, { headers: this.#headers, path: req.url ?? "/" });
      if (session.active) this.#session = session.address === undefined ? {} : { address: session.address };
    }
    req.on("data", (chunk: Buffer) => {
      if (!this.#bodyOverflow) {
        this.#bodyBytes += chunk.length;
        if (this.#bodyBytes > this.#bufferLimit) {
          this.#bodyOverflow = true;
          this.#body.length = 0;
        } else this.#body.push(chunk);
      }
      const upstream = this.#upstream;
      if (upstream && !upstream.destroyed && !upstream.write(chunk)) {
        req.pause();
        upstream.once("drain", () => req.resume());
      }
    });
    req.once("end", () => {
      this.#bodyEnded = true;
      this.#upstream?.end();
    });
    // A request without a body (most GETs) is complete with its head: send it upstream at once
    // instead of a tick later on "end", which costs latency on every request.
    if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) {
      this.#bodyEnded = true;
    }
    this.#res.once("close", () => {
      if (!this.#res.writableFinished) this.#upstream?.destroy();
      this.#finish();
    });
    if (this.#route.timeoutMs !== undefined) {
      this.#timer = setTimeout(() => this.#timeout(), this.#route.timeoutMs);
    }
    this.#attempt();
  }

  #finish(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#done = true;
  }

  #timeout(): void {
    if (this.#done) return;
    this.#cluster.stats.rqTimeout++;
    this.#upstream?.destroy();
    this.#upstream = undefined;
    if (!this.#res.headersSent) this.#gateway.local(this.#res, 504, "upstream request timeout", "UT");
    else this.#res.destroy();
    this.#finish();
  }

  #attempt(): void {
    const cluster = this.#cluster;
    const isRetry = this.#retries > 0;
    const usable = cluster.endpoints;
    const override = this.#session ? overrideHost(this.#session.address, usable, isRetry) : undefined;
    const host =
      override ??
      selectHost(cluster.lb, { hash: this.#hash, previousHosts: this.#previous, policy: this.#route.retry });
    if (!host) {
      cluster.stats.rqNoHealthyUpstream++;
      this.#req.resume();
      this.#gateway.local(this.#res, 503, "no healthy upstream", "UH");
      this.#finish();
      return;
    }
    const address = host.address;
    this.#previous.add(address);
    const colon = address.lastIndexOf(":");
    const ip = address.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(address.slice(colon + 1));
    const hostStats = cluster.host(address);
    hostStats.rqTotal++;
    cluster.stats.rqTotal++;
    cluster.activeRequests.begin(address);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      cluster.activeRequests.end(address);
    };
    const started = performance.now();
    const upstream = request({
      host: ip,
      port,
      method: this.#req.method,
      path: this.#req.url,
      headers: this.#requestHeaders(),
      agent: this.#gateway.agent,
      setHost: false,
    });
    this.#upstream = upstream;
    upstream.once("response", (ures) => {
      const status = ures.statusCode ?? 502;
      if (this.#retriableStatus(status) && this.#canRetry()) {
        ures.resume();
        ures.once("end", end);
        hostStats.rqError++;
        this.#retry();
        return;
      }
      this.#respond(ures, status, address, started, hostStats, end);
    });
    upstream.on("error", (err: NodeJS.ErrnoException) => {
      end();
      if (this.#done || this.#upstream !== upstream) return;
      hostStats.rqError++;
      const connect = CONNECT_FAILURES.has(err.code ?? "") && !upstream.reusedSocket;
      const failure: Failure = connect
        ? {
            kind: "connect-failure",
            detail: `remote connection failure, transport failure reason: delayed connect error: ${err.code}`,
          }
        : { kind: "reset", detail: "connection termination" };
      if (connect) {
        hostStats.cxConnectFail++;
        cluster.stats.cxConnectFail++;
      } else cluster.stats.rqReset++;
      if (this.#res.headersSent) {
        this.#res.destroy();
        this.#finish();
        return;
      }
      if (this.#retryOn(failure.kind) && this.#canRetry()) {
        this.#retry();
        return;
      }
      const reason = this.#retries > 0 ? "retried and the latest reset reason" : "reset reason";
      this.#gateway.local(
        this.#res,
        503,
        `upstream connect error or disconnect/reset before headers. ${reason}: ${failure.detail}`,
        connect ? "UF" : "UC",
      );
      this.#finish();
    });
    for (const chunk of this.#body) upstream.write(chunk);
    if (this.#bodyEnded) upstream.end();
  }

  #requestHeaders(): string[] {
    const out: string[] = [];
    let forwardedFor: string | undefined;
    let requestId: string | undefined;
    for (const [name, value] of this.#headers) {
      if (name === "x-forwarded-for")
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor},${value}`;
      else if (name === "x-request-id") requestId ??= value;
      if (!DROP_REQUEST.has(name)) out.push(name, value);
    }
    const peer = this.#req.socket.remoteAddress;
    const ip = peer === undefined ? undefined : (canonicalIp(peer) ?? peer);
    if (ip !== undefined) forwardedFor = forwardedFor === undefined ? ip : `${forwardedFor},${ip}`;
    if (forwardedFor !== undefined) out.push("x-forwarded-for", forwardedFor);
    out.push("x-forwarded-proto", "http", "x-request-id", requestId ?? randomUUID());
    return out;
  }

  #retryOn(condition: string): boolean {
    const on = this.#route.retry.retryOn;
    if (on.includes(condition)) return true;
    return condition !== "timeout" && on.includes("5xx");
  }

  #retriableStatus(status: number): boolean {
    const on = this.#route.retry.retryOn;
    if (status >= 500 && on.includes("5xx")) return true;
    if ((status === 502 || status === 503 || status === 504) && on.includes("gateway-error")) return true;
    return on.includes("retriable-status-codes") && this.#route.retry.retriableStatusCodes.includes(status);
  }

  #canRetry(): boolean {
    return this.#retries < this.#route.retry.numRetries && !this.#bodyOverflow && !this.#done;
  }

  #retry(): void {
    this.#retries++;
    this.#cluster.stats.rqRetry++;
    this.#upstream = undefined;
    setTimeout(() => {
      if (!this.#done) this.#attempt();
    }, this.#gateway.backoffMs(this.#retries));
  }

  #respond(
    ures: IncomingMessage,
    status: number,
    address: string,
    started: number,
    hostStats: { rqSuccess: number; rqError: number },
    end: () => void,
  ): void {
    const res = this.#res;
    const out: string[] = [];
    const raw = ures.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (!DROP_RESPONSE.has(name.toLowerCase())) out.push(name, raw[i + 1] as string);
    }
    for (const cookie of this.#setCookie) out.push("set-cookie", cookie);
    const session = this.#cluster.config.session;
    if (this.#session && session) {
      for (const [name, value] of sessionResponseHeaders(session, this.#session.address, address))
        out.push(name, value);
    }
    out.push(
      "x-envoy-upstream-service-time",
      String(Math.round(performance.now() - started)),
      "server",
      "istio-envoy",
    );
    this.#cluster.stats.byClass[statusClass(status)]++;
    this.#gateway.stats.byClass[statusClass(status)]++;
    if (status >= 500) hostStats.rqError++;
    else hostStats.rqSuccess++;
    res.writeHead(status, out);
    ures.pipe(res);
    ures.once("end", () => {
      end();
      this.#finish();
    });
    ures.once("error", () => {
      end();
      res.destroy();
    });
    ures.once("aborted", () => {
      end();
      res.destroy();
    });
  }
}
