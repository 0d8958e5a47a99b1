/**
 * A WebSocket upgrade through the gateway, as Envoy runs one under Istio's `upgrade_configs:
 * [websocket]`: routed, hashed and balanced like any request, with the same forwarded headers and
 * `Connection`/`Upgrade` kept; retried by the route's policy until a response arrives. Bytes the
 * client sends before the upstream's `101` are held back (Envoy 1.31+). On `101` the head goes down
 * with `server: istio-envoy` and any generated cookie, then bytes flow both ways untouched, with
 * backpressure, until either side closes, which closes the other once its last bytes are out (Envoy
 * does not pass half-closes on). Any other answer ends the exchange and both connections: a 4xx/5xx
 * with its body, streamed, anything else at once with its headers and an empty body. The upstream
 * connection never goes back to the pool.
 */
import type { Socket } from "node:net";
import type { Cluster } from "./cluster.js";
import { writeLocalReply, writeRawResponse } from "./downstream/local-reply.js";
import { refusedHeader } from "./downstream/raw-response.js";
import { DROP_RESPONSE } from "./exchange.js";
import type { RouteConfig } from "./route-table.js";
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
  backoffMs(retry: number, baseMs: number): number;
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
  "x-envoy-attempt-count",
]);
/** Left out of a 101 going down: the gateway's own server name, and framing that means nothing there. */
const DROP_101 = new Set(["server", "keep-alive", "proxy-connection", "content-length", "transfer-encoding"]);
/** Left out of a refused handshake's answer: hop-by-hop headers and the framing the gateway redoes. */
const DROP_REFUSAL = new Set([...DROP_RESPONSE, "content-length"]);
/** Bytes the client may send before the 101 that are held; past this, its connection is not read. */
const MAX_EARLY_BYTES = 1024 * 1024;

function filtered(headers: readonly string[], drop: ReadonlySet<string>, out: string[]): boolean {
  let date = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const lower = name.toLowerCase();
    if (drop.has(lower)) continue;
    if (lower === "date") date = true;
    out.push(name, headers[i + 1] as string);
  }
  return date;
}

export class UpgradeExchange implements ConnectionUser {
  readonly #host: UpgradeHost;
  readonly #downstream: Socket;
  readonly #route: RouteConfig;
  readonly #cluster: Cluster;
  readonly #request: { readonly method: string; readonly path: string; readonly headers: [string, string][] };
  /** Client bytes after the handshake, held until the 101. */
  readonly #early: Buffer[];
  #earlyBytes: number;
  readonly #previous = new Set<string>();
  #affinity: Affinity | undefined;
  #upstreamHead = "";
  #connection: UpstreamConnection | undefined;
  #address = "";
  #parser: ResponseParser | undefined;
  #retries = 0;
  /** The 101 went down: bytes now flow both ways untouched. */
  #tunnel = false;
  /** A refused handshake's 4xx/5xx head went down; its body follows. */
  #refusing = false;
  #pending101: ResponseHead | undefined;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  #endActive: (() => void) | undefined;

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
    this.#early = early.length > 0 ? [early] : [];
    this.#earlyBytes = early.length;
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
    this.#upstreamHead = text;
    // Read the client from the start, so a close before the 101 is seen and ends the attempt.
    downstream.on("data", (chunk: Buffer) => this.#fromClient(chunk));
    downstream.once("end", () => this.#clientEnded());
    downstream.once("close", () => this.#clientClosed());
    // The route timeout covers the wait for the upstream's answer; a response disarms it (Envoy 1.36+).
    if (this.#route.timeoutMs !== undefined)
      this.#timer = setTimeout(() => this.#timeout(), this.#route.timeoutMs);
    this.#attempt();
  }

  #attempt(): void {
    const cluster = this.#cluster;
    cluster.refresh();
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
    this.#endActive = cluster.beginAttempt(address);
    this.#parser = new ResponseParser({
      head: (head) => this.#onHead(head),
      body: (chunk) => this.#onRefusalBody(chunk),
      end: () => this.#onRefusalEnd(),
      upgraded: (rest) => this.#onUpgraded(rest),
    });
    this.#parser.reset(false, true);
    this.#connection = this.#host.pool.acquire(address, this, cluster.poolSettings);
    this.#connection.socket.write(
      `${this.#upstreamHead}x-envoy-attempt-count: ${this.#retries + 1}\r\n\r\n`,
      "latin1",
    );
  }

  // --- the client's side ------------------------------------------------------------------------------

  #fromClient(chunk: Buffer): void {
    if (this.#done) return;
    if (this.#tunnel) {
      const upstream = this.#connection?.socket;
      if (upstream && !upstream.write(chunk)) this.#downstream.pause(); // resumed by drain()
      return;
    }
    // Before the 101 the bytes are held (Envoy 1.31+); past the limit the client is not read.
    this.#early.push(chunk);
    this.#earlyBytes += chunk.length;
    if (this.#earlyBytes > MAX_EARLY_BYTES) this.#downstream.pause();
  }

  /** The client sent FIN. Envoy does not pass half-closes on: both connections close once flushed. */
  #clientEnded(): void {
    const upstream = this.#connection?.socket;
    this.#finish();
    if (this.#tunnel && upstream) upstream.destroySoon();
    else this.#dropConnection();
    this.#downstream.destroySoon();
  }

  /** The client's connection is gone: whatever is under way upstream goes too. */
  #clientClosed(): void {
    this.#finish();
    // After the client's FIN the upstream was ended gracefully; its last bytes still go out.
    if (this.#tunnel && this.#connection?.socket.writableEnded) return;
    this.#dropConnection();
  }

  // --- ConnectionUser: the upstream connection ------------------------------------------------------

  data(chunk: Buffer): void {
    if (this.#tunnel) {
      if (this.#done) return;
      if (!this.#downstream.write(chunk)) {
        const upstream = this.#connection?.socket;
        upstream?.pause();
        this.#downstream.once("drain", () => upstream?.resume());
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
    if (this.#tunnel && !this.#done) this.#downstream.resume();
  }

  closed(error: NodeJS.ErrnoException | undefined): void {
    if (this.#done) return;
    if (this.#tunnel) {
      // Data already written goes out, then the client's connection closes too.
      this.#finish();
      this.#connection = undefined;
      this.#downstream.destroySoon();
      return;
    }
    if (this.#refusing && error === undefined) {
      try {
        this.#parser?.finish(); // a close-delimited body ended
        return;
      } catch {
        // cut short: below
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
    if (this.#done) return;
    if (head.status === 101) {
      this.#pending101 = head; // #onUpgraded follows at once with the bytes after the head
      return;
    }
    if (retriesStatus(this.#route, head.status) && this.#canRetry()) {
      this.#cluster.countRetriedResponse(this.#address, head.status);
      this.#dropConnection();
      this.#retry();
      return;
    }
    const out: string[] = [];
    const date = filtered(head.headers, DROP_REFUSAL, out);
    affinityResponseHeaders(this.#route, this.#affinity as Affinity, this.#address, out);
    if (!this.#writable(out, head.status)) return;
    this.#answered(head.status);
    if (!date) out.push("date", new Date().toUTCString());
    out.push("server", "istio-envoy", "connection", "close");
    if (head.status < 400) {
      // Envoy answers with the headers and an empty body, and does not wait for the upstream's.
      out.push("content-length", "0");
      this.#finish();
      this.#dropConnection();
      writeRawResponse(this.#downstream, head.status, out, "");
      return;
    }
    // A 4xx/5xx goes down with its body, streamed; without a length, the close ends it.
    const length = head.headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === "content-length");
    if (length >= 0) out.push("content-length", head.headers[length + 1] as string);
    this.#refusing = true;
    writeRawResponse(this.#downstream, head.status, out);
  }

  #onUpgraded(rest: Buffer): void {
    const head = this.#pending101;
    const upstream = this.#connection?.socket;
    if (!head || !upstream || this.#done) return;
    const out: string[] = [];
    const date = filtered(head.headers, DROP_101, out);
    affinityResponseHeaders(this.#route, this.#affinity as Affinity, this.#address, out);
    if (!this.#writable(out, 101)) return;
    this.#answered(101);
    this.#tunnel = true;
    if (!date) out.push("date", new Date().toUTCString());
    out.push("server", "istio-envoy");
    writeRawResponse(this.#downstream, 101, out);
    if (rest.length > 0) this.data(rest);
    for (const chunk of this.#early.splice(0)) upstream.write(chunk);
    this.#earlyBytes = 0;
    this.#downstream.resume();
  }

  /**
   * Whether the head going down can be written as it is. A header that cannot (a cookie named by the
   * configuration with CR or LF, say) fails the handshake with Envoy's 502 for a response it cannot
   * pass on, and the upstream connection goes; no part of the head is written.
   */
  #writable(out: readonly string[], status: number): boolean {
    if (refusedHeader(out) === undefined) return true;
    // The host answered; only its answer cannot go down.
    this.#cluster.countResponse(this.#address, status);
    this.#dropConnection();
    const reply = upstreamFailureReply("protocol-error", "invalid response header", this.#retries > 0);
    this.#local(reply.status, reply.body, reply.flags);
    return false;
  }

  /** Books a response from upstream; the route timeout ends here. */
  #answered(status: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#cluster.countResponse(this.#address, status);
    this.#host.countUpstream(status);
  }

  #onRefusalBody(chunk: Buffer): void {
    if (this.#refusing && !this.#done) this.#downstream.write(chunk);
  }

  #onRefusalEnd(): void {
    if (!this.#refusing || this.#done) return;
    this.#finish();
    this.#dropConnection();
    this.#downstream.destroySoon();
  }

  // --- failures, retries, endings --------------------------------------------------------------------

  #failed(kind: UpstreamFailureKind, detail: string): void {
    if (this.#done) return;
    this.#cluster.countFailure(this.#address, kind);
    this.#dropConnection();
    if (this.#refusing) {
      // Cut while the refusal's body was going down: the client's copy is cut too.
      this.#finish();
      this.#downstream.destroy();
      return;
    }
    if (retriesFailure(this.#route, kind) && this.#canRetry()) {
      this.#retry();
      return;
    }
    const reply = upstreamFailureReply(kind, detail, this.#retries > 0);
    this.#local(reply.status, reply.body, reply.flags);
  }

  #canRetry(): boolean {
    return this.#retries < this.#route.retry.numRetries && !this.#done;
  }

  #retry(): void {
    this.#retries++;
    this.#cluster.stats.rqRetry++;
    this.#endActive?.();
    this.#pending101 = undefined;
    setTimeout(
      () => {
        if (!this.#done) this.#attempt();
      },
      this.#host.backoffMs(this.#retries, this.#route.retry.backoffBaseMs),
    );
  }

  #timeout(): void {
    if (this.#done) return;
    this.#cluster.stats.rqTimeout++;
    this.#cluster.countFailure(this.#address, "timeout");
    this.#dropConnection();
    this.#local(504, "upstream request timeout", "UT");
  }

  #local(status: number, body: string, flags: string): void {
    if (this.#done) return;
    this.#host.countLocal(status, flags);
    this.#finish();
    writeLocalReply(this.#downstream, status, body);
  }

  #dropConnection(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    connection.detach();
    connection.socket.destroy();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#endActive?.();
  }
}
