/**
 * A client connection the gateway reads itself, one request at a time: each head is offered to
 * the gateway's own reader (head-buffer.ts); a simple request is answered with a `RawResponse`,
 * and requests pipelined behind it wait, unread, until it has been sent and the socket has drained
 * (as Envoy's HTTP/1 codec waits). The first head it does not take, whatever the reason, is handed
 * with every byte not yet consumed to Node's HTTP server, which serves the connection from then on;
 * a connection is never handed over while a response is under way.
 * Timeouts and endings follow Node's server, which the rest of the gateway's connections are under:
 * a head must be complete within the headers timeout of its first byte (else 408 and close; checked
 * by the gateway's once-a-second sweep, as Node checks its own), a connection idle between requests
 * is closed after the keep-alive timeout of inactivity, and a client that ends its side ends the
 * connection at once (400 first if it cut a head short).
 */
import type { Socket } from "node:net";
import { HeadBuffer } from "./head-buffer.js";
import { RawResponse, type ResponseOwner } from "./raw-response.js";
import type { SimpleRequestHead } from "./request-head.js";

export interface RawConnectionHost {
  /** Node's HTTP server's per-request header limit: a larger head goes to Node, which refuses it. */
  readonly maxHeadBytes: number;
  readonly keepAliveTimeoutMs: number;
  /** A simple request to answer with `response`. */
  request(head: SimpleRequestHead, response: RawResponse, socket: Socket): void;
  /** Node's HTTP server takes the connection from here, `bytes` (not yet consumed) first. */
  handOff(socket: Socket, bytes: Buffer | undefined): void;
  /** The connection is closed or handed off: no more sweeps. */
  forget(connection: RawConnection): void;
}

/** Node's answers to a head that came too slowly and to a connection that ended mid-head. */
const REQUEST_TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
const BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";

export class RawConnection implements ResponseOwner {
  readonly socket: Socket;
  readonly #host: RawConnectionHost;
  readonly #pending: HeadBuffer;
  #response: RawResponse | undefined;
  #over = false;
  #waitingForDrain = false;
  /** When the head being awaited got its first byte (performance.now()), for the headers timeout. */
  #headSince: number | undefined;

  constructor(socket: Socket, host: RawConnectionHost) {
    this.socket = socket;
    this.#host = host;
    this.#pending = new HeadBuffer(host.maxHeadBytes);
    // As in Node's server, a new connection's first head is timed from the connection's start, and
    // from its first byte once one comes.
    this.#headSince = performance.now();
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onClose);
    socket.on("timeout", this.#onIdle);
    socket.on("error", ignore);
  }

  /**
   * Runs the headers timeout at `now` (performance.now()): a head awaited that long and not complete.
   * Bytes pipelined behind a response are timed from their first byte but judged only once the
   * response has gone (Node would already have cut a head stalled behind a long response).
   */
  sweep(now: number, headersTimeoutMs: number): void {
    if (this.#over || this.#response !== undefined || this.#waitingForDrain) return;
    if (this.#headSince === undefined) return;
    if (now - this.#headSince < headersTimeoutMs) return;
    this.#finish();
    this.socket.end(REQUEST_TIMEOUT, "latin1");
    this.socket.destroy();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#over) return;
    const pending = this.#pending;
    const started = pending.started;
    pending.append(chunk);
    if (!started && pending.started) this.#headSince = performance.now();
    if (this.#response !== undefined || this.#waitingForDrain) {
      // Pipelined behind a response under way: read no further until it is sent.
      if (pending.length > this.#host.maxHeadBytes) this.socket.pause();
      return;
    }
    this.#next();
  };

  /** Takes the next request from the bytes received, if its head is complete. */
  #next(): void {
    if (this.#over) return;
    const pending = this.#pending;
    const scan = pending.scan();
    if (scan.kind === "incomplete") return;
    if (scan.kind === "other") {
      this.#handOff();
      return;
    }
    // What is left may be the start of the next head, which arrived just now.
    this.#headSince = pending.started ? performance.now() : undefined;
    // Node's keep-alive timeout covers the wait between requests only.
    if (this.socket.timeout) this.socket.setTimeout(0);
    const response = new RawResponse(this.socket, this, this.#host.keepAliveTimeoutMs);
    this.#response = response;
    this.#host.request(scan.head, response, this.socket);
  }

  finished(response: RawResponse): void {
    if (this.#response !== response) return;
    this.#response = undefined;
    response.closed();
    if (this.#over) return;
    if (!response.shouldKeepAlive) {
      // RFC 9112 §9.6: after a response that says close, nothing more on the connection is served.
      this.#finish();
      this.socket.end();
      this.socket.destroySoon();
      return;
    }
    this.socket.setTimeout(this.#host.keepAliveTimeoutMs);
    if (this.socket.writableNeedDrain) {
      // A client not reading its responses gets no more of them until it does.
      this.#waitingForDrain = true;
      this.socket.once("drain", () => {
        this.#waitingForDrain = false;
        this.#continue();
      });
      return;
    }
    this.#continue();
  }

  #continue(): void {
    if (this.#over) return;
    if (this.socket.isPaused()) this.socket.resume();
    this.#next();
  }

  /** Idle for the keep-alive timeout (only armed between requests): closed, as Node's server does. */
  readonly #onIdle = (): void => {
    if (this.#response === undefined) this.socket.destroy();
  };

  /**
   * The client ended its side. Node's server (without `httpAllowHalfOpen`) then ends the connection
   * at once, a response under way included; a head cut short is answered 400 first, unless a
   * response has begun, and the connection destroyed.
   */
  readonly #onEnd = (): void => {
    if (this.#over) return;
    const pending = this.#pending;
    const cut = pending.endsInPartialHead();
    const response = this.#response;
    this.#finish();
    if (cut) {
      if (response === undefined || !response.headWritten) this.socket.write(BAD_REQUEST, "latin1");
      this.socket.destroy();
      response?.closed();
      return;
    }
    response?.closed();
    this.socket.end();
    this.socket.destroySoon();
  };

  readonly #onClose = (): void => {
    this.#finish();
    this.#response?.closed();
  };

  /** No more requests are read from this connection. */
  #finish(): void {
    if (this.#over) return;
    this.#over = true;
    this.#headSince = undefined;
    this.#host.forget(this);
  }

  #handOff(): void {
    const bytes = this.#pending.take();
    this.#finish();
    const socket = this.socket;
    socket.removeListener("data", this.#onData);
    socket.removeListener("end", this.#onEnd);
    socket.removeListener("close", this.#onClose);
    socket.removeListener("timeout", this.#onIdle);
    socket.removeListener("error", ignore);
    if (socket.timeout) socket.setTimeout(0);
    this.#host.handOff(socket, bytes);
  }
}

function ignore(): void {}
