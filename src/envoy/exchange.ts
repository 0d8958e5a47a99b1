/**
 * One downstream request and its upstream attempts, as Envoy's router filter runs them: the hash and
 * the persistent-session override computed once, then per attempt the host-selection loop with the
 * route's retry policy, the request sent over a pooled keep-alive connection, and the response
 * streamed back with the headers the gateway adds. The request body is kept (up to the retry buffer
 * limit) so a retry can replay it; beyond the limit the request is no longer retried, as in Envoy.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Cluster } from "./cluster.js";
import type { DownstreamResponse } from "./downstream/downstream-response.js";
import { RawResponse, refusedHeader } from "./downstream/raw-response.js";
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
import type { ConnectionPool } from "./upstream/connection-pool.js";
import type { ResponseHead } from "./upstream/response-parser.js";
import { type BodyFraming, type UpstreamFailure, UpstreamRequest } from "./upstream/upstream-request.js";

/** What an exchange needs of the gateway that runs it. */
export interface ExchangeHost {
  readonly pool: ConnectionPool;
  readonly retryBufferBytes: number;
  /** A reply of the gateway itself; `flags` are Envoy's response flags (NR, UH, UF…), counted. */
  local(res: DownstreamResponse, status: number, body: string, flags: string): void;
  /** Counts a response that came from upstream. */
  countUpstream(status: number): void;
  backoffMs(retry: number, baseMs: number): number;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1), the framing the upstream request redoes, and the ones set here. */
const DROP_REQUEST = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "upgrade",
  "te",
  "transfer-encoding",
  // Node's server has already answered 100-continue downstream, as Envoy does by default.
  "expect",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-request-id",
  "x-envoy-attempt-count",
]);
/**
 * Hop-by-hop response headers, `server`, which the gateway sets, and `trailer`: trailers are not
 * forwarded (Envoy's HTTP/1 codec drops them unless `enable_trailers`, which Istio leaves off), so
 * they are not announced either; beside a Content-Length the announcement is not even writable.
 */
export const DROP_RESPONSE: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "server",
  "trailer",
]);

/** The downstream request: its method, its client connection, and where its body comes from. */
export interface DownstreamRequest {
  readonly method: string;
  readonly socket: Socket;
  /** Node's request when it has (or may have) a body; none for a head the gateway read itself. */
  readonly body: IncomingMessage | undefined;
}

export class Exchange {
  readonly #host: ExchangeHost;
  readonly #req: DownstreamRequest;
  readonly #res: DownstreamResponse;
  readonly #route: RouteConfig;
  readonly #cluster: Cluster;
  readonly #headers: [string, string][];
  /** The normalized path and query: what routing matched, hashing reads and the upstream gets. */
  readonly #path: string;
  readonly #framing: BodyFraming;
  readonly #previous = new Set<string>();
  readonly #body: Buffer[] = [];
  #upstreamHeaders: string[] = [];
  #bodyBytes = 0;
  #bodyEnded: boolean;
  #bodyOverflow = false;
  #affinity: Affinity | undefined;
  #upstream: UpstreamRequest | undefined;
  #retries = 0;
  /** Whether a retry slot of the cluster's circuit breakers is held, and whether one was refused. */
  #holdsRetry = false;
  #retryOverflow = false;
  /** The host of the current attempt. */
  #address: string | undefined;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  /** Ends the current attempt's active-request count (least request reads it); idempotent. */
  #endActive: (() => void) | undefined;
  #waitingForDrain = false;
  /** A body chunk not yet passed to the response (see the handler's `data`). */
  #held: Buffer | undefined;
  /** Whether the response has gone on to Node's socket (head flushed or body written). */
  #streaming = false;

  constructor(
    host: ExchangeHost,
    req: DownstreamRequest,
    res: DownstreamResponse,
    route: RouteConfig,
    cluster: Cluster,
    request: { readonly path: string; readonly headers: [string, string][]; readonly framing: BodyFraming },
  ) {
    this.#host = host;
    this.#req = req;
    this.#res = res;
    this.#route = route;
    this.#cluster = cluster;
    this.#headers = request.headers;
    this.#path = request.path;
    this.#framing = request.framing;
    // A request without a body (most GETs) is complete with its head and leaves in one write.
    this.#bodyEnded = this.#framing === "none";
  }

  start(): void {
    this.#affinity = affinityOf(this.#route, this.#cluster, {
      headers: this.#headers,
      path: this.#path,
      connection: this.#req.socket,
    });
    this.#upstreamHeaders = forwardedRequestHeaders(
      this.#headers,
      this.#req.socket.remoteAddress,
      DROP_REQUEST,
    );
    if (this.#framing !== "none") this.#readBody();
    else this.#startTimeout();
    this.#attempt();
  }

  #readBody(): void {
    const req = this.#req.body;
    if (req === undefined) throw new Error("a request with a body comes from Node's parser");
    req.on("data", (chunk: Buffer) => {
      if (!this.#bodyOverflow) {
        this.#bodyBytes += chunk.length;
        if (this.#bodyBytes > this.#host.retryBufferBytes) {
          this.#bodyOverflow = true;
          this.#body.length = 0;
          if (this.#upstream === undefined && this.#retries > 0) this.#bufferExceeded();
        } else this.#body.push(chunk);
      }
      const upstream = this.#upstream;
      if (upstream && !upstream.write(chunk)) {
        req.pause();
        upstream.onDrain(() => req.resume());
      }
    });
    req.once("end", () => {
      this.#bodyEnded = true;
      this.#startTimeout();
      this.#upstream?.end();
    });
  }

  /** Envoy's route timeout runs from the end of the downstream request, not from its head. */
  #startTimeout(): void {
    if (this.#route.timeoutMs === undefined || this.#done) return;
    this.#timer = setTimeout(() => this.#timeout(), this.#route.timeoutMs);
  }

  /** The downstream response closed (sent, or the client went away). */
  downstreamClosed(): void {
    if (!this.#res.writableFinished) this.#upstream?.abort();
    this.#finish();
  }

  #finish(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#giveBackRetry();
    this.#done = true;
    this.#endActive?.();
    // A body still arriving (paused for backpressure, perhaps) is read and dropped, so the client is
    // not left hanging; the response said `connection: close` (see #closeIfBodyPending).
    if (!this.#bodyEnded) this.#req.body?.resume();
  }

  /**
   * A response sent before the request is complete closes the connection, as Envoy does: the rest of
   * the body cannot be told apart from a next request. Must run before the head is written.
   */
  #closeIfBodyPending(): void {
    if (!this.#bodyEnded) this.#res.shouldKeepAlive = false;
  }

  #local(status: number, body: string, flags: string): void {
    this.#closeIfBodyPending();
    this.#host.local(this.#res, status, body, flags);
  }

  #timeout(): void {
    if (this.#done) return;
    this.#cluster.stats.rqTimeout++;
    // Envoy books a timeout against the host only while it still awaits that host's response head.
    if (this.#upstream?.hasConnection && this.#address !== undefined && !this.#res.headersSent)
      this.#cluster.countFailure(this.#address, "timeout");
    this.#upstream?.abort();
    this.#upstream = undefined;
    if (!this.#res.headersSent) this.#local(504, "upstream request timeout", "UT");
    else this.#res.destroy();
    this.#finish();
  }

  #attempt(): void {
    const cluster = this.#cluster;
    const isRetry = this.#retries > 0;
    // Outlier-detection ticks due by now run first: a host back from ejection is pickable again.
    cluster.refresh();
    const host = pickHost(this.#route, cluster, this.#affinity as Affinity, this.#previous, isRetry);
    if (!host) {
      cluster.stats.rqNoHealthyUpstream++;
      this.#req.body?.resume();
      this.#local(503, "no healthy upstream", "UH");
      this.#finish();
      return;
    }
    const address = host.address;
    this.#address = address;
    this.#previous.add(address);
    const settle = cluster.beginAttempt(address);
    this.#endActive = settle;
    const started = performance.now();
    const upstream: UpstreamRequest = new UpstreamRequest(
      this.#host.pool,
      address,
      {
        method: this.#req.method,
        path: this.#path,
        headers: this.#upstreamHeaders,
        attempt: this.#retries + 1,
        framing: this.#framing,
      },
      {
        head: (head) => {
          this.#giveBackRetry();
          if (retriesStatus(this.#route, head.status) && this.#canRetry()) {
            // The rest of this response is not wanted: drop the connection rather than drain it.
            upstream.abort();
            settle();
            cluster.countRetriedResponse(address, head.status);
            this.#retry();
            return;
          }
          this.#respond(head, address, started, upstream, settle);
        },
        // Node holds the head back until the first body write, and Envoy forwards what it has at once:
        // a body still to come (a stream, a long poll) must not hold the head or the bytes so far.
        readDone: () => {
          if (this.#done) return;
          const held = this.#held;
          this.#held = undefined;
          if (held) this.#write(held, upstream);
          // Node's headersSent means writeHead has run; a read holding only part of the head has not got there.
          else if (this.#res.headersSent && !this.#streaming) {
            this.#res.flushHeaders();
            this.#streaming = true;
          }
        },
        // The first chunk waits for the end of its read: a response that ends there (most) leaves in
        // one `end(chunk)`, the cheapest path through Node's response.
        data: (chunk) => {
          const held = this.#held;
          if (!this.#streaming && held === undefined) {
            this.#held = chunk;
            return;
          }
          if (held) {
            this.#held = undefined;
            this.#write(held, upstream);
          }
          this.#write(chunk, upstream);
        },
        end: () => {
          settle();
          const held = this.#held;
          this.#held = undefined;
          if (held) this.#res.end(held);
          else this.#res.end();
          this.#finish();
        },
        error: (failure) => {
          settle();
          this.#giveBackRetry();
          this.#failed(upstream, failure, address);
        },
      },
      cluster.poolSettings,
    );
    this.#upstream = upstream;
    if (this.#framing === "none") return;
    for (const chunk of this.#body) upstream.write(chunk);
    if (this.#bodyEnded) upstream.end();
  }

  #write(chunk: Buffer, upstream: UpstreamRequest): void {
    this.#streaming = true;
    if (!this.#res.write(chunk) && !this.#waitingForDrain) {
      this.#waitingForDrain = true;
      upstream.pause();
      this.#res.once("drain", () => {
        this.#waitingForDrain = false;
        upstream.resume();
      });
    }
  }

  #failed(upstream: UpstreamRequest, failure: UpstreamFailure, address: string): void {
    if (this.#done || this.#upstream !== upstream) return;
    this.#cluster.countFailure(address, failure.kind);
    if (this.#res.headersSent) {
      this.#res.destroy();
      this.#finish();
      return;
    }
    if (retriesFailure(this.#route, failure.kind) && this.#canRetry()) {
      this.#retry();
      return;
    }
    const reply = upstreamFailureReply(failure.kind, failure.detail, this.#retries > 0);
    const flags = this.#retryOverflow && failure.kind !== "overflow" ? `${reply.flags},UO` : reply.flags;
    this.#host.local(this.#res, reply.status, reply.body, flags);
    this.#finish();
  }

  /**
   * Whether the route's policy allows another attempt and the cluster's max_retries leaves room for
   * it; a retry refused by max_retries is an overflow (the attempt's own answer goes down, marked UO).
   */
  #canRetry(): boolean {
    if (this.#retries >= this.#route.retry.numRetries || this.#bodyOverflow || this.#done) return false;
    if (this.#cluster.breakers.takeRetry()) {
      this.#holdsRetry = true;
      return true;
    }
    this.#retryOverflow = true;
    return false;
  }

  /** Envoy holds a retry's slot from the decision to retry until that retry's outcome is judged. */
  #giveBackRetry(): void {
    if (!this.#holdsRetry) return;
    this.#holdsRetry = false;
    this.#cluster.breakers.giveBackRetry();
  }

  #retry(): void {
    this.#retries++;
    this.#cluster.stats.rqRetry++;
    this.#upstream = undefined;
    // A body paused for the aborted attempt's backpressure would wait for a drain that never comes.
    if (!this.#bodyEnded) this.#req.body?.resume();
    setTimeout(
      () => {
        if (!this.#done) this.#attempt();
      },
      this.#host.backoffMs(this.#retries, this.#route.retry.backoffBaseMs),
    );
  }

  /** The body outgrew the retry buffer while a retry waited: it can no longer be replayed (Envoy's 507). */
  #bufferExceeded(): void {
    if (this.#done) return;
    this.#local(507, "exceeded request buffer limit while retrying upstream", "");
    this.#finish();
  }

  #respond(
    head: ResponseHead,
    address: string,
    started: number,
    upstream: UpstreamRequest,
    settle: () => void,
  ): void {
    const out: string[] = [];
    const raw = head.headers;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (!DROP_RESPONSE.has(name.toLowerCase())) out.push(name, raw[i + 1] as string);
    }
    // The response parser has refused every name and value Node would not write. The cookies the
    // gateway adds are named by the configuration: they are checked here, before any of the head goes
    // out (Node's writeHead would throw half-way, having already taken the status).
    const upstreamHeaders = out.length;
    affinityResponseHeaders(this.#route, this.#affinity as Affinity, address, out);
    this.#cluster.countResponse(address, head.status);
    if (out.length > upstreamHeaders && refusedHeader(out, upstreamHeaders) !== undefined) {
      this.#unwritable(upstream, settle);
      return;
    }
    out.push(
      "x-envoy-upstream-service-time",
      String(Math.round(performance.now() - started)),
      "server",
      "istio-envoy",
    );
    this.#host.countUpstream(head.status);
    this.#closeIfBodyPending();
    const res = this.#res;
    // Every header is known to be writable: the gateway's own writer need not look at them again.
    if (res instanceof RawResponse) res.writeHead(head.status, out, out.length);
    else res.writeHead(head.status, out);
  }

  /**
   * The response head holds a header that cannot be written: this request fails alone, with the 502
   * Envoy gives a response it cannot pass on (its router's protocol-error answer), and no part of
   * the head goes out.
   */
  #unwritable(upstream: UpstreamRequest, settle: () => void): void {
    upstream.abort();
    settle();
    const reply = upstreamFailureReply("protocol-error", "invalid response header", this.#retries > 0);
    this.#local(reply.status, reply.body, reply.flags);
    this.#finish();
  }
}
