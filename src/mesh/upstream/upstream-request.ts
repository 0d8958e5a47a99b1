/**
 * One HTTP/1.1 request to one upstream endpoint over a pooled connection: the head written in one
 * go (with the body when it is already complete), the body framed as the downstream request was
 * (Content-Length kept, chunked re-encoded), the response parsed and handed over as it arrives. The
 * connection goes back to the pool only when both messages ended cleanly and the upstream allows
 * reuse; anything else closes it. Failures are classified as Envoy reports them: before the TCP
 * handshake completed a connect failure, after it a reset, a malformed response a protocol error.
 */
import type {
  ClusterPoolSettings,
  ConnectionPool,
  ConnectionUser,
  UpstreamConnection,
} from "./connection-pool.js";
import { type ResponseHead, ResponseParseError, ResponseParser } from "./response-parser.js";

export type UpstreamFailureKind = "connect-failure" | "reset" | "protocol-error";

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

export class UpstreamRequest implements ConnectionUser {
  readonly #pool: ConnectionPool;
  readonly #connection: UpstreamConnection;
  readonly #handler: UpstreamHandler;
  readonly #parser: ResponseParser;
  readonly #framing: BodyFraming;
  #head: string | undefined;
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
    text += "\r\n";
    this.#connection = pool.acquire(address, this, settings);
    // Held back until the first body write or end, so a complete request leaves in one write.
    if (this.#requestEnded) this.#connection.socket.write(text, "latin1");
    else this.#head = text;
  }

  /** Whether the connection had carried earlier requests. */
  get reused(): boolean {
    return this.#connection.uses > 0;
  }

  /** Writes a body chunk; false when the connection's buffer is full (wait for `onDrain`). */
  write(chunk: Buffer): boolean {
    if (this.#settled || chunk.length === 0) return true;
    const socket = this.#connection.socket;
    if (this.#head !== undefined) {
      socket.write(this.#head, "latin1");
      this.#head = undefined;
    }
    if (this.#framing === "chunked") socket.write(`${chunk.length.toString(16)}\r\n`, "latin1");
    const ok = socket.write(chunk);
    return this.#framing === "chunked" ? socket.write("\r\n", "latin1") && ok : ok;
  }

  end(): void {
    if (this.#settled || this.#requestEnded) return;
    this.#requestEnded = true;
    const tail = this.#framing === "chunked" ? "0\r\n\r\n" : "";
    const text = (this.#head ?? "") + tail;
    this.#head = undefined;
    if (text) this.#connection.socket.write(text, "latin1");
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
    if (!this.#settled) this.#connection.socket.pause();
  }

  resume(): void {
    if (!this.#settled) this.#connection.socket.resume();
  }

  /** Gives up on the exchange: the connection is closed, no handler method is called after this. */
  abort(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#connection.user = undefined;
    this.#connection.socket.destroy();
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
    const connect = !this.#connection.connected;
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
    if (this.#requestEnded) this.#release();
    else {
      this.#connection.user = undefined;
      this.#connection.socket.destroy();
    }
    this.#handler.end();
  }

  #release(): void {
    const connection = this.#connection;
    if (connection.user !== this) return;
    if (this.#parser.keepAlive) this.#pool.release(connection, this.#keepAliveTimeoutMs);
    else {
      connection.user = undefined;
      connection.socket.destroy();
    }
  }

  #fail(failure: UpstreamFailure): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#connection.user = undefined;
    this.#connection.socket.destroy();
    this.#handler.error(failure);
  }

  /** Whether response bytes have arrived (a failure after that cannot be retried). */
  get responseStarted(): boolean {
    return this.#responseStarted;
  }
}
