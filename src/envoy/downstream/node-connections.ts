/**
 * The client connections Node's HTTP server parses for the gateway: how many of their responses are
 * under way, whether the one under way closes the connection, and what a parse error does.
 *
 * Node's parser reads ahead of the answers: requests pipelined behind one are parsed (and handed to
 * the gateway) before it is answered, and a parse error in the bytes after a request makes Node write
 * its 400 over that request's answer and drop the connection, though the request may already have
 * run upstream. Envoy's HTTP/1 codec reads one request at a time (codec_impl.cc pauses its parser at
 * the end of each message), so the bytes after a request are only looked at once it is answered, and
 * never after an answer that closes the connection (conn_manager_impl.cc, saw_connection_close_). Here
 * a parse error behind complete requests waits for their answers: after a request that closes the
 * connection it is never answered at all, otherwise it gets Node's own reply once they have gone.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { writeLocalReply } from "./local-reply.js";

interface ConnectionState {
  /** Responses under way. */
  inFlight: number;
  /** The response under way closes the connection: nothing read after it is served. */
  closing: boolean;
  /** The last request Node's parser handed over. */
  last: IncomingMessage | undefined;
  /** Runs once no response is under way. */
  whenAnswered: (() => void) | undefined;
  /** A parse error was handled: Node reports one again for every later read of a failed parser. */
  failed: boolean;
}

// Node's replies to a parse error (lib/_http_server.js), byte for byte.
const NODE_REPLIES: Record<string, string> = {
  HPE_HEADER_OVERFLOW: "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n",
  HPE_CHUNK_EXTENSIONS_OVERFLOW: "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n",
  ERR_HTTP_REQUEST_TIMEOUT: "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n",
};
const NODE_BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";

/**
 * Whether Node's parser refused a transfer coding (`chunked` not last, or repeated): Envoy's 501.
 * It reports Transfer-Encoding beside Content-Length with the same code, which Envoy answers 400
 * (http1.content_length_and_chunked_not_allowed, checked first): only the reason tells them apart.
 */
function unsupportedTransferCoding(error: NodeJS.ErrnoException & { reason?: string }): boolean {
  return error.code === "HPE_INVALID_TRANSFER_ENCODING" && !/content-length/i.test(error.reason ?? "");
}

export class NodeConnections {
  readonly #states = new WeakMap<Socket, ConnectionState>();
  readonly #refused: (status: number, flags: string) => void;

  /** `refused` counts a reply of the gateway itself to a head Node's parser refused. */
  constructor(refused: (status: number, flags: string) => void) {
    this.#refused = refused;
  }

  #state(socket: Socket): ConnectionState {
    let state = this.#states.get(socket);
    if (state === undefined) {
      state = { inFlight: 0, closing: false, last: undefined, whenAnswered: undefined, failed: false };
      this.#states.set(socket, state);
    }
    return state;
  }

  /**
   * A request Node's parser handed over, with its response. False when it is not to be served: a
   * response before it closes the connection (RFC 9112 §9.6).
   */
  request(req: IncomingMessage, res: ServerResponse): boolean {
    const state = this.#state(req.socket);
    state.last = req;
    if (state.closing) return false;
    state.inFlight++;
    res.once("close", () => {
      if (--state.inFlight > 0) return;
      const next = state.whenAnswered;
      state.whenAnswered = undefined;
      next?.();
    });
    return true;
  }

  /** The response under way closes the connection. */
  close(socket: Socket): void {
    this.#state(socket).closing = true;
  }

  closing(socket: Socket): boolean {
    return this.#states.get(socket)?.closing ?? false;
  }

  /** Whether a response is under way on the connection. */
  answering(socket: Socket): boolean {
    return (this.#states.get(socket)?.inFlight ?? 0) > 0;
  }

  /** Runs `next` once no response is under way on the connection: at once when none is. */
  afterAnswers(socket: Socket, next: () => void): void {
    const state = this.#state(socket);
    if (state.inFlight === 0) next();
    else state.whenAnswered = next;
  }

  /** Node's `clientError`: a parse error, a headers timeout or a socket error on the connection. */
  clientError(error: NodeJS.ErrnoException, socket: Socket): void {
    const state = this.#state(socket);
    if (state.failed) return;
    state.failed = true;
    if (state.inFlight > 0 && error.code?.startsWith("HPE_")) {
      // The answer under way ends the connection: what came after the request is never read.
      if (state.closing || error.code === "HPE_CLOSED_CONNECTION") return;
      if (state.last?.complete) {
        this.afterAnswers(socket, () => this.#reject(error, socket));
        return;
      }
    }
    this.#reject(error, socket);
  }

  /** What Node does with a client error, but a transfer coding it refuses gets Envoy's 501. */
  #reject(error: NodeJS.ErrnoException, socket: Socket): void {
    // Node's own test: no reply over a response whose head has already gone out.
    const message = (socket as Socket & { _httpMessage?: { _headerSent?: boolean } | null })._httpMessage;
    if (socket.writable && !message?._headerSent) {
      if (unsupportedTransferCoding(error)) {
        // codec_impl.cc: a Transfer-Encoding other than `chunked` is http1.invalid_transfer_encoding.
        this.#refused(501, "DPE");
        writeLocalReply(socket, 501, "Not Implemented");
        return;
      }
      socket.write((error.code && NODE_REPLIES[error.code]) ?? NODE_BAD_REQUEST, "latin1");
    }
    socket.destroy(error);
  }
}
