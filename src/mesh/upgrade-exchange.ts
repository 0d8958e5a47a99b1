/**
 * A WebSocket upgrade through the gateway, as Envoy runs one under Istio's `upgrade_configs:
 * [websocket]`: routed, hashed and balanced like any request, with the same forwarded headers and
 * `Connection`/`Upgrade` kept; retried by the route's policy until a response arrives. Bytes the
 * client sends before the upstream's `101` are held back (Envoy 1.31+). On `101` the head goes down
 * with `server: istio-envoy` and any generated cookie, then bytes flow both ways untouched, with
 * backpressure, until either side closes, which closes the other (Envoy does not pass half-closes
 * on). Any other answer ends the exchange and both connections: a 4xx/5xx with its body, anything
 * else with its headers and an empty body. The upstream connection never goes back to the pool.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Cluster } from "./cluster.js";
import type { RouteConfig } from "./gateway-config.js";
import {
  type Affinity,
  affinityOf,
  affinityResponseHeaders,
  forwardedRequestHeaders,
  pickHost,
  retriesFailure,
  retriesStatus,
  upstreamFailureReply,
} from "./router-policy.js";
import type { ConnectionPool, ConnectionUser, UpstreamConnection } from "./upstream/connection-pool.js";
import { type ResponseHead, ResponseParseError, ResponseParser } from "./upstream/response-parser.js";
import type { UpstreamFailureKind } from "./upstream/upstream-request.js";

export interface UpgradeHost {
  readonly pool: ConnectionPool;
  backoffMs(retry: number): number;
  /** Counts a reply of the gateway itself (status class, Envoy response flag when set). */
  countLocal(status: number, flags: string): void;
  countUpstream(status: number): void;
}

/** Hop-by-hop request headers except the two an upgrade keeps, and the ones the router sets. */
const DROP_REQUEST = new Set([
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
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
/** A refused handshake's body is forwarded up to this size (Envoy's per-request buffer limit). */
const MAX_REFUSAL_BODY = 1024 * 1024;

/** An HTTP/1.1 response written straight to a socket, ending it: the connection cannot go on. */
export function writeRawResponse(
  socket: Socket,
  status: number,
  headers: readonly string[],
  body: Buffer | string,
): void {
  let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n`;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  text += "\r\n";
  if (socket.destroyed) return;
  socket.write(text, "latin1");
  socket.end(body);
}

export class UpgradeExchange implements ConnectionUser {
  readonly #host: UpgradeHost;
  readonly #downstream: Socket;
  readonly #route: RouteConfig;
  readonly #cluster: Cluster;
  readonly #request: { readonly method: string; readonly path: string; readonly headers: [string, string][] };
  readonly #early: Buffer;
  readonly #previous = new Set<string>();
  #affinity: Affinity | undefined;
  #upstreamHead = "";
  #connection: UpstreamConnection | undefined;
  #address = "";
  #parser: ResponseParser | undefined;
  #retries = 0;
  #tunnel = false;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  #endActive: (() => void) | undefined;
  #refusal: { head: ResponseHead; body: Buffer[]; bytes: number } | undefined;
  #pending101: ResponseHead | undefined;

  constructor(
    host: UpgradeHost,
    downstream: Socket,
    early: Buffer,
    route: RouteConfig,
    cluster: Cluster,
    request: { readonly method: string; readonly path: string; readonly headers: [string, string][] },
  ) {
    this.#host = host;
    this.#downstream = downstream;
    this.#early = early;
    this.#route = route;
    this.#cluster = cluster;
    this.#request = request;
  }

  start(): void {
    const downstream = this.#downstream;
    this.#affinity = affinityOf(this.#route, this.#cluster, {
      headers: this.#request.headers,
      path: this.#request.path,
      connection: downstream,
    });
    const headers = forwardedRequestHeaders(this.#request.headers, downstream.remoteAddress, DROP_REQUEST);
    let text = `${this.#request.method} ${this.#request.path} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.#upstreamHead = `${text}\r\n`;
    downstream.once("close", () => this.#close());
    // The route timeout covers the wait for the upstream's answer; a 101 disarms it (Envoy 1.36+).
    if (this.#route.timeoutMs !== undefined)
      this.#timer = setTimeout(() => this.#timeout(), this.#route.timeoutMs);
    this.#attempt();
  }

  #attempt(): void {
    const cluster = this.#cluster;
    const host = pickHost(
      this.#route,
      cluster,
      this.#affinity as Affinity,
      this.#previous,
      this.#retries > 0,
    );
    if (!host) {
      cluster.stats.rqNoHealthyUpstream++;
      this.#local(503, "no healthy upstream", "UH");
      return;
    }
    const address = host.address;
    this.#address = address;
    this.#previous.add(address);
    cluster.host(address).rqTotal++;
    cluster.stats.rqTotal++;
    cluster.activeRequests.begin(address);
    let active = true;
    this.#endActive = () => {
      if (!active) return;
      active = false;
      cluster.activeRequests.end(address);
    };
    this.#parser = new ResponseParser({
      head: (head) => this.#onHead(head),
      body: (chunk) => this.#onRefusalBody(chunk),
      end: () => this.#onRefusalEnd(),
      upgraded: (rest) => this.#onUpgraded(rest),
    });
    this.#parser.reset(false, true);
    this.#connection = this.#host.pool.acquire(address, this);
    this.#connection.socket.write(this.#upstreamHead, "latin1");
  }

  // --- ConnectionUser: the upstream connection ------------------------------------------------------

  data(chunk: Buffer): void {
    if (this.#tunnel) {
      if (!this.#downstream.write(chunk)) {
        this.#connection?.socket.pause();
        this.#downstream.once("drain", () => this.#connection?.socket.resume());
      }
      return;
    }
    try {
      this.#parser?.feed(chunk);
    } catch (error) {
      if (!(error instanceof ResponseParseError)) throw error;
      this.#failed("protocol-error", error.message);
    }
  }

  drain(): void {
    if (this.#tunnel) this.#downstream.resume();
  }

  closed(error: NodeJS.ErrnoException | undefined): void {
    if (this.#done) return;
    if (this.#tunnel) {
      // Data already written downstream is delivered, then the client's connection closes too.
      this.#finish();
      this.#downstream.end();
      return;
    }
    if (this.#refusal && error === undefined) {
      try {
        this.#parser?.finish();
        return;
      } catch {
        // cut short: reset below
      }
    }
    const connected = this.#connection?.connected ?? false;
    this.#failed(
      connected ? "reset" : "connect-failure",
      error?.code ?? (connected ? "connection termination" : "connection refused"),
    );
  }

  // --- the upstream's answer -------------------------------------------------------------------------

  #onHead(head: ResponseHead): void {
    if (head.status === 101) {
      this.#pending101 = head; // #onUpgraded follows at once with the bytes after the head
      return;
    }
    if (retriesStatus(this.#route, head.status) && this.#canRetry()) {
      this.#cluster.host(this.#address).rqError++;
      this.#dropConnection();
      this.#retry();
      return;
    }
    this.#refusal = { head, body: [], bytes: 0 };
  }

  #onUpgraded(rest: Buffer): void {
    const head = this.#parser?.upgraded ? this.#headOf101() : undefined;
    if (!head || this.#done) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#tunnel = true;
    this.#cluster.stats.byClass["1xx"]++;
    this.#cluster.host(this.#address).rqSuccess++;
    this.#host.countUpstream(101);
    const downstream = this.#downstream;
    downstream.write(head, "latin1");
    if (rest.length > 0) downstream.write(rest);
    const upstream = this.#connection?.socket;
    if (!upstream) return;
    if (this.#early.length > 0) upstream.write(this.#early);
    downstream.on("data", (chunk: Buffer) => {
      if (!upstream.write(chunk)) downstream.pause();
    });
    downstream.once("end", () => {
      this.#finish();
      upstream.end();
      downstream.end();
    });
    downstream.resume();
  }

  #headOf101(): string | undefined {
    const head = this.#pending101;
    if (!head) return undefined;
    const out: string[] = [];
    let date = false;
    for (let i = 0; i < head.headers.length; i += 2) {
      const name = head.headers[i] as string;
      const lower = name.toLowerCase();
      if (lower === "server") continue;
      if (lower === "date") date = true;
      out.push(name, head.headers[i + 1] as string);
    }
    affinityResponseHeaders(this.#cluster, this.#affinity as Affinity, this.#address, out);
    if (!date) out.push("date", new Date().toUTCString());
    out.push("server", "istio-envoy");
    let text = "HTTP/1.1 101 Switching Protocols\r\n";
    for (let i = 0; i < out.length; i += 2) text += `${out[i]}: ${out[i + 1]}\r\n`;
    return `${text}\r\n`;
  }

  #onRefusalBody(chunk: Buffer): void {
    const refusal = this.#refusal;
    if (!refusal || refusal.head.status < 400) return;
    refusal.bytes += chunk.length;
    if (refusal.bytes <= MAX_REFUSAL_BODY) refusal.body.push(Buffer.from(chunk));
  }

  /** The handshake was refused: the answer goes down and both connections close. */
  #onRefusalEnd(): void {
    const refusal = this.#refusal;
    if (!refusal || this.#done) return;
    const { head } = refusal;
    const body = head.status >= 400 ? Buffer.concat(refusal.body) : Buffer.alloc(0);
    const out: string[] = [];
    for (let i = 0; i < head.headers.length; i += 2) {
      const name = head.headers[i] as string;
      const lower = name.toLowerCase();
      if (DROP_RESPONSE.has(lower) || lower === "content-length") continue;
      out.push(name, head.headers[i + 1] as string);
    }
    affinityResponseHeaders(this.#cluster, this.#affinity as Affinity, this.#address, out);
    out.push("content-length", String(body.length), "server", "istio-envoy", "connection", "close");
    const hostStats = this.#cluster.host(this.#address);
    if (head.status >= 500) hostStats.rqError++;
    else hostStats.rqSuccess++;
    this.#cluster.stats.byClass[
      head.status >= 500 ? "5xx" : head.status >= 400 ? "4xx" : head.status >= 300 ? "3xx" : "2xx"
    ]++;
    this.#host.countUpstream(head.status);
    this.#finish();
    this.#dropConnection();
    writeRawResponse(this.#downstream, head.status, out, body);
  }

  // --- failures, retries, endings --------------------------------------------------------------------

  #failed(kind: UpstreamFailureKind, detail: string): void {
    if (this.#done) return;
    const cluster = this.#cluster;
    cluster.host(this.#address).rqError++;
    if (kind === "connect-failure") {
      cluster.host(this.#address).cxConnectFail++;
      cluster.stats.cxConnectFail++;
    } else cluster.stats.rqReset++;
    this.#dropConnection();
    if (!this.#refusal && retriesFailure(this.#route, kind) && this.#canRetry()) {
      this.#retry();
      return;
    }
    if (this.#refusal) {
      // Cut while the refusal was arriving: nothing coherent to forward.
      this.#finish();
      this.#downstream.destroy();
      return;
    }
    const reply = upstreamFailureReply(kind, detail, this.#retries > 0);
    this.#local(503, reply.body, reply.flags);
  }

  #canRetry(): boolean {
    return this.#retries < this.#route.retry.numRetries && !this.#done;
  }

  #retry(): void {
    this.#retries++;
    this.#cluster.stats.rqRetry++;
    this.#endActive?.();
    this.#refusal = undefined;
    this.#pending101 = undefined;
    setTimeout(() => {
      if (!this.#done) this.#attempt();
    }, this.#host.backoffMs(this.#retries));
  }

  #timeout(): void {
    if (this.#done || this.#tunnel) return;
    this.#cluster.stats.rqTimeout++;
    this.#dropConnection();
    this.#local(504, "upstream request timeout", "UT");
  }

  #local(status: number, body: string, flags: string): void {
    if (this.#done) return;
    this.#host.countLocal(status, flags);
    this.#finish();
    writeRawResponse(
      this.#downstream,
      status,
      [
        "content-length",
        String(Buffer.byteLength(body)),
        ...(body ? ["content-type", "text/plain"] : []),
        "date",
        new Date().toUTCString(),
        "server",
        "istio-envoy",
        "connection",
        "close",
      ],
      body,
    );
  }

  #dropConnection(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    connection.user = undefined;
    connection.socket.destroy();
  }

  #finish(): void {
    this.#done = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#endActive?.();
  }

  /** The client's connection closed: whatever is under way upstream goes too. */
  #close(): void {
    this.#finish();
    // After the client's FIN the upstream was ended gracefully; let its last bytes out.
    if (this.#tunnel && this.#connection?.socket.writableEnded) return;
    this.#dropConnection();
  }
}
