/**
 * One HTTP/1.1 request to one upstream endpoint over a pooled connection: the head written in one
 * go (with the body when it is already complete), the body framed as the downstream request was
 * (Content-Length kept, chunked re-encoded), the response parsed and handed over as it arrives. The
 * connection goes back to the pool only when both messages ended cleanly and the upstream allows
 * reuse; anything else closes it. Failures are classified as Envoy reports them: before the TCP
 * handshake completed a connect failure, after it a reset, a malformed response a protocol error, a
 * refusal by the circuit breakers an overflow. Until the pool has a connection for it, the request
 * waits with what it would write (see connection-pool.ts).
 */
import type {
  ClusterPoolSettings,
  ConnectionPool,
  PendingUser,
  UpstreamConnection,
} from "./connection-pool.js";
import { type ResponseHead, ResponseParseError, ResponseParser } from "./response-parser.js";

/** `overflow`: refused by the cluster's circuit breakers before any connection was used. */
export type UpstreamFailureKind = "connect-failure" | "reset" | "protocol-error" | "overflow";

export interface UpstreamFailure {
  readonly kind: UpstreamFailureKind;
  /** The socket error code (ECONNREFUSED…) or the parse error, for the local reply's detail. */
  readonly detail: string;
}

export interface UpstreamHandler {
  head(head: ResponseHead): void;
  data(chunk: Buffer): void;
  end(): void;
  /**
   * A read from the connection was handed over and the response goes on: what it carried may be
   * passed on now (a later read may take a while). Not called after `end` or `error`.
   */
  readDone(): void;
  /** The exchange failed; after `head` this means the response was cut short. */
  error(failure: UpstreamFailure): void;
}

export type BodyFraming = "none" | "content-length" | "chunked";

export interface UpstreamRequestHead {
  readonly method: string;
  readonly path: string;
  /** Name/value pairs, flattened, already filtered of hop-by-hop headers. */
  readonly headers: readonly string[];
  /** Sent as `x-envoy-attempt-count`: Istio turns Envoy's include_request_attempt_count on. */
  readonly attempt?: number;
  readonly framing: BodyFraming;
}

/** Body bytes a waiting request holds before it reads no more from its client (its write returns false). */
const WAITING_BODY_BYTES = 64 * 1024;

export class UpstreamRequest implements PendingUser {
  readonly #pool: ConnectionPool;
  readonly #address: string;
  readonly #settings: ClusterPoolSettings;
  #connection: UpstreamConnection | undefined;
  readonly #handler: UpstreamHandler;
  readonly #parser: ResponseParser;
  readonly #framing: BodyFraming;
  /** The head, until it is written with the first body bytes or the end. */
  #head: string | undefined;
  /** What was written before a connection came: body bytes, already framed. */
  #waiting: (string | Buffer)[] = [];
  #waitingBytes = 0;
  #paused = false;
  #keepAliveTimeoutMs: number | undefined;
  #requestEnded: boolean;
  #responseStarted = false;
  #settled = false;
  #drain: (() => void) | undefined;

  constructor(
    pool: ConnectionPool,
    address: string,
    head: UpstreamRequestHead,
    handler: UpstreamHandler,
    settings: ClusterPoolSettings = {},
  ) {
    this.#pool = pool;
    this.#address = address;
    this.#settings = settings;
    this.#handler = handler;
    this.#framing = head.framing;
    this.#requestEnded = head.framing === "none";
    this.#parser = new ResponseParser({
      head: (h) => {
        if (!this.#settled) this.#onHead(h);
      },
      body: (chunk) => {
        if (!this.#settled) this.#handler.data(chunk);
      },
      end: () => this.#onEnd(),
    });
    this.#parser.reset(head.method === "HEAD");
    let text = `${head.method} ${head.path} HTTP/1.1\r\n`;
    const headers = head.headers;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    if (head.attempt !== undefined) text += `x-envoy-attempt-count: ${head.attempt}\r\n`;
    if (head.framing === "chunked") text += "transfer-encoding: chunked\r\n";
    // Held back until the first body write or end, so a complete request leaves in one write.
    this.#head = `${text}\r\n`;
    pool.request(address, this, settings);
  }

  /** The pool's connection for this request: what waited goes out now. */
  attached(connection: UpstreamConnection): void {
    this.#connection = connection;
    const socket = connection.socket;
    if (this.#paused) socket.pause();
    const waiting = this.#waiting;
    if (waiting.length === 0) {
      if (this.#requestEnded) this.#flushHead();
      return;
    }
    this.#flushHead();
    for (const part of waiting) {
      if (typeof part === "string") socket.write(part, "latin1");
      else socket.write(part);
    }
    this.#waiting = [];
    const full = this.#waitingBytes >= WAITING_BODY_BYTES;
    this.#waitingBytes = 0;
    // The client was told to wait (write returned false): it may go on once the socket can take more.
    if (full && !socket.writableNeedDrain) this.drain();
  }

  overflowed(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#handler.error({ kind: "overflow", detail: "overflow" });
  }

  connectFailed(error: NodeJS.ErrnoException | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#handler.error({ kind: "connect-failure", detail: error?.code ?? "connection refused" });
  }

  /** Whether the pool has given the request a connection (it is no longer waiting for one). */
  get hasConnection(): boolean {
    return this.#connection !== undefined;
  }

  /** Whether the connection had carried earlier requests. */
  get reused(): boolean {
    return (this.#connection?.uses ?? 0) > 0;
  }

  #flushHead(): void {
    const head = this.#head;
    if (head === undefined) return;
    this.#head = undefined;
    const tail =
      this.#requestEnded && this.#waiting.length === 0 && this.#framing === "chunked" ? "0\r\n\r\n" : "";
    (this.#connection as UpstreamConnection).socket.write(head + tail, "latin1");
  }

  /** Sends `part` (already framed), or keeps it until a connection comes; false when the sender should wait. */
  #send(part: string | Buffer): boolean {
    const connection = this.#connection;
    if (connection === undefined) {
      this.#waiting.push(part);
      this.#waitingBytes += part.length;
      return this.#waitingBytes < WAITING_BODY_BYTES;
    }
    this.#flushHead();
    return typeof part === "string" ? connection.socket.write(part, "latin1") : connection.socket.write(part);
  }

  /** Writes a body chunk; false when the connection's buffer is full (wait for `onDrain`). */
  write(chunk: Buffer): boolean {
    if (this.#settled || chunk.length === 0) return true;
    if (this.#framing !== "chunked") return this.#send(chunk);
    this.#send(`${chunk.length.toString(16)}\r\n`);
    const ok = this.#send(chunk);
    return this.#send("\r\n") && ok;
  }

  end(): void {
    if (this.#settled || this.#requestEnded) return;
    this.#requestEnded = true;
    if (this.#connection === undefined) {
      if (this.#framing === "chunked") this.#waiting.push("0\r\n\r\n");
      return;
    }
    if (this.#head !== undefined) this.#flushHead();
    else if (this.#framing === "chunked") this.#connection.socket.write("0\r\n\r\n", "latin1");
  }

  /** Calls `listener` once when the connection can take more body; never after the exchange ended. */
  onDrain(listener: () => void): void {
    this.#drain = listener;
  }

  drain(): void {
    const listener = this.#drain;
    this.#drain = undefined;
    if (!this.#settled) listener?.();
  }

  /** Stops reading the response (downstream backpressure) until `resume`. */
  pause(): void {
    if (this.#settled) return;
    this.#paused = true;
    this.#connection?.socket.pause();
  }

  resume(): void {
    if (this.#settled) return;
    this.#paused = false;
    this.#connection?.socket.resume();
  }

  /** Gives up on the exchange: the connection is closed, no handler method is called after this. */
  abort(): void {
    if (this.#settled) return;
    this.#settled = true;
    const connection = this.#connection;
    if (connection === undefined) {
      this.#pool.cancel(this.#address, this, this.#settings);
      return;
    }
    connection.detach();
    connection.socket.destroy();
  }

  data(chunk: Buffer): void {
    try {
      this.#parser.feed(chunk);
      if (!this.#settled) this.#handler.readDone();
    } catch (error) {
      if (!(error instanceof ResponseParseError)) throw error;
      this.#fail({ kind: "protocol-error", detail: error.message });
    }
  }

  closed(error: NodeJS.ErrnoException | undefined): void {
    if (this.#settled) return;
    // Only a clean close ends a close-delimited body; after a reset the body is known to be cut.
    if (!this.#parser.done && error === undefined) {
      try {
        this.#parser.finish();
      } catch {
        // closed before the response ended: the failure is classified below
      }
    }
    if (this.#settled) return; // a close-delimited body ended
    const connect = !(this.#connection as UpstreamConnection).connected;
    this.#settled = true;
    this.#handler.error({
      kind: connect ? "connect-failure" : "reset",
      detail: error?.code ?? (connect ? "connection refused" : "connection termination"),
    });
  }

  #onHead(head: ResponseHead): void {
    this.#responseStarted = true;
    this.#keepAliveTimeoutMs = head.keepAliveTimeoutMs;
    this.#handler.head(head);
  }

  #onEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    // An upstream that answers before reading the whole request cannot take the next one cleanly.
    const connection = this.#connection as UpstreamConnection;
    if (this.#requestEnded) this.#release();
    else {
      connection.detach();
      connection.socket.destroy();
    }
    this.#handler.end();
  }

  #release(): void {
    const connection = this.#connection as UpstreamConnection;
    if (connection.user !== this) return;
    if (this.#parser.keepAlive) this.#pool.release(connection, this.#keepAliveTimeoutMs);
    else {
      connection.detach();
      connection.socket.destroy();
    }
  }

  #fail(failure: UpstreamFailure): void {
    if (this.#settled) return;
    this.#settled = true;
    const connection = this.#connection as UpstreamConnection;
    connection.detach();
    connection.socket.destroy();
    this.#handler.error(failure);
  }

  /** Whether response bytes have arrived (a failure after that cannot be retried). */
  get responseStarted(): boolean {
    return this.#responseStarted;
  }
}
