/**
 * A client connection the gateway reads itself, one request at a time: each head is offered to
 * the gateway's own reader (request-head.ts); a simple request is answered with a `RawResponse`,
 * and requests pipelined behind it wait, unread, until it has been sent (as Envoy's HTTP/1 codec
 * waits). The first head it does not take, whatever the reason, is handed with every byte not yet
 * consumed to Node's HTTP server, which serves the connection from then on; a connection is never
 * handed over while a response is under way.
 * Timeouts follow Node's server, which the rest of the gateway's connections are under: the head of a
 * new connection or of a request begun must be complete within the headers timeout (else 408 and
 * close), and a connection idle between requests for the keep-alive timeout is closed. Both are
 * checked by the gateway's once-a-second sweep, as Node checks its own.
 */
import type { Socket } from "node:net";
import { RawResponse, type ResponseOwner } from "./raw-response.js";
import { parseSimpleRequestHead, type SimpleRequestHead } from "./request-head.js";

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

const END_OF_HEAD = Buffer.from("\r\n\r\n", "latin1");
/** Node's answers to a head that came too slowly and to a connection that ended mid-head. */
const REQUEST_TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
const BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";

export class RawConnection implements ResponseOwner {
  readonly socket: Socket;
  readonly #host: RawConnectionHost;
  /** Bytes received and not yet consumed. */
  #pending: Buffer | undefined;
  #response: RawResponse | undefined;
  #over = false;
  /** When the head being awaited began (a new connection awaits one), for the headers timeout. */
  #headSince: number | undefined;
  /** When the connection last fell idle between requests, for the keep-alive timeout. */
  #idleSince: number | undefined;

  constructor(socket: Socket, host: RawConnectionHost) {
    this.socket = socket;
    this.#host = host;
    this.#headSince = Date.now();
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onClose);
    socket.on("error", ignore);
  }

  /** Runs the timeouts due at `now`, ms since the epoch. */
  sweep(now: number, headersTimeoutMs: number): void {
    if (this.#over) return;
    if (this.#headSince !== undefined && headersTimeoutMs > 0 && now - this.#headSince >= headersTimeoutMs) {
      this.#finish();
      this.socket.end(REQUEST_TIMEOUT, "latin1");
      this.socket.destroySoon();
    } else if (this.#idleSince !== undefined && now - this.#idleSince >= this.#host.keepAliveTimeoutMs)
      this.socket.destroy();
  }

  readonly #onData = (chunk: Buffer): void => {
    const pending = this.#pending;
    this.#pending = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    if (this.#response !== undefined) {
      // Pipelined behind a response under way: read no further until it is sent.
      if ((this.#pending as Buffer).length > this.#host.maxHeadBytes) this.socket.pause();
      return;
    }
    this.#next();
  };

  /** Takes the next request from the bytes received, if its head is complete. */
  #next(): void {
    const data = this.#pending;
    if (data === undefined || this.#over) return;
    const end = data.indexOf(END_OF_HEAD);
    const limit = this.#host.maxHeadBytes;
    if (end < 0) {
      if (data.length > limit) this.#handOff();
      else {
        this.#headSince ??= Date.now();
        this.#idleSince = undefined;
      }
      return;
    }
    const head = end + 4 <= limit ? parseSimpleRequestHead(data.toString("latin1", 0, end)) : undefined;
    if (head === undefined) {
      this.#handOff();
      return;
    }
    this.#pending = end + 4 < data.length ? data.subarray(end + 4) : undefined;
    this.#headSince = undefined;
    this.#idleSince = undefined;
    const response = new RawResponse(this.socket, this, this.#host.keepAliveTimeoutMs);
    this.#response = response;
    this.#host.request(head, response, this.socket);
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
    this.#idleSince = Date.now();
    if (this.socket.isPaused()) this.socket.resume();
    this.#next();
  }

  /**
   * The client ended its side. Node's server (without `httpAllowHalfOpen`) then ends the connection
   * at once, a response under way included, and answers 400 to a head cut short.
   */
  readonly #onEnd = (): void => {
    if (this.#over) return;
    const partial = this.#pending !== undefined && this.#response === undefined;
    this.#finish();
    this.#response?.closed();
    if (partial) this.socket.end(BAD_REQUEST, "latin1");
    else this.socket.end();
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
    this.#pending = undefined;
    this.#headSince = undefined;
    this.#idleSince = undefined;
    this.#host.forget(this);
  }

  #handOff(): void {
    const bytes = this.#pending;
    this.#finish();
    const socket = this.socket;
    socket.removeListener("data", this.#onData);
    socket.removeListener("end", this.#onEnd);
    socket.removeListener("close", this.#onClose);
    socket.removeListener("error", ignore);
    this.#host.handOff(socket, bytes);
  }
}

function ignore(): void {}
