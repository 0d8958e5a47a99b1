/**
 * A response written straight to the client's socket, byte for byte as Node's `ServerResponse`
 * writes it for the same calls (status line and reason, the given headers in order, then `Date`
 * unless given, `Connection: keep-alive` and `Keep-Alive: timeout=N` or `Connection: close`, and
 * `Transfer-Encoding: chunked` when there is no Content-Length and the status has a body), so a
 * client cannot tell which of the two answered. What Node's writable machinery costs per response
 * is what this saves: the head and a body that ends in one go leave in a single write.
 * A header Node would refuse to write (a name that is not a token, a value with CR, LF, NUL or another
 * control) is refused the same way, with Node's error: a head is never split by what it carries.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { DownstreamResponse } from "./downstream-response.js";

/** What a response tells the connection it belongs to. */
export interface ResponseOwner {
  /** The whole response has been written (`end`); runs once, after `end` has returned. */
  finished(response: RawResponse): void;
}

let dateSecond = -1;
let dateText = "";

/** Node's `Date` header value, worked out once a second. */
function utcDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Node's `checkInvalidHeaderChar`: anything but HTAB, visible ASCII, space and obs-text. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

function headerError(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new TypeError(message);
  error.code = code;
  return error;
}

/**
 * The error Node's `ServerResponse.writeHead` throws for the first header in `headers` (flattened
 * name/value pairs) from index `from` on that it refuses; undefined when it would write them all.
 */
export function refusedHeader(headers: readonly string[], from = 0): NodeJS.ErrnoException | undefined {
  for (let i = from; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!TOKEN.test(name))
      return headerError("ERR_INVALID_HTTP_TOKEN", `Header name must be a valid HTTP token ["${name}"]`);
    if (INVALID_VALUE.test(headers[i + 1] as string))
      return headerError("ERR_INVALID_CHAR", `Invalid character in header content ["${name}"]`);
  }
  return undefined;
}

const LAST_CHUNK = "0\r\n\r\n";
/** Bodies up to this size are copied behind their head into one buffer; larger ones are not. */
const COPY_LIMIT = 16 * 1024;
const NOTHING = Buffer.alloc(0);

export class RawResponse implements DownstreamResponse {
  shouldKeepAlive = true;
  headersSent = false;
  writableFinished = false;
  readonly #socket: Socket;
  readonly #owner: ResponseOwner;
  readonly #keepAliveHeader: string;
  /** The head, built by writeHead and not yet written: it leaves with the first body bytes. */
  #head: string | undefined;
  #chunked = false;
  #bodyless = false;
  #ended = false;
  #closed = false;
  #headWritten = false;
  readonly #onClose: (() => void)[] = [];

  /** `keepAliveTimeoutMs`: the server's idle timeout, announced in `Keep-Alive`. */
  constructor(socket: Socket, owner: ResponseOwner, keepAliveTimeoutMs: number) {
    this.#socket = socket;
    this.#owner = owner;
    this.#keepAliveHeader = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n`;
  }

  /**
   * Throws as Node's would for a header it refuses, writing nothing. `checked`: the headers before
   * that index are known to be writable (the caller has held them to the same rules), so a forwarded
   * response is not scanned twice.
   */
  writeHead(status: number, headers: string[], checked = 0): this {
    const refused = refusedHeader(headers, checked);
    if (refused !== undefined) throw refused;
    let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "unknown"}\r\n`;
    let length = false;
    let date = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (name.length === 14 && name.toLowerCase() === "content-length") length = true;
      else if (name.length === 4 && name.toLowerCase() === "date") date = true;
      text += `${name}: ${headers[i + 1]}\r\n`;
    }
    if (!date) text += `Date: ${utcDate()}\r\n`;
    text += this.shouldKeepAlive ? this.#keepAliveHeader : "Connection: close\r\n";
    // RFC 9110 §6.4.1: 1xx, 204 and 304 have no body, whatever is written.
    this.#bodyless = status < 200 || status === 204 || status === 304;
    if (!length && !this.#bodyless) {
      this.#chunked = true;
      text += "Transfer-Encoding: chunked\r\n";
    }
    this.#head = `${text}\r\n`;
    this.headersSent = true;
    return this;
  }

  /** Whether the head has gone to the socket (Node's `_headerSent`), not only been given. */
  get headWritten(): boolean {
    return this.#headWritten;
  }

  flushHeaders(): void {
    const head = this.#head;
    if (head === undefined) return;
    this.#head = undefined;
    this.#headWritten = true;
    this.#socket.write(head, "latin1");
  }

  write(chunk: Buffer): boolean {
    if (this.#ended || this.#closed) return true;
    return this.#send(chunk, false);
  }

  end(chunk?: Buffer | string): this {
    if (this.#ended) return this;
    this.#ended = true;
    // As Node's `close` after `finish`: once the last bytes have gone to the kernel, never inside `end`.
    const finished = () => this.#owner.finished(this);
    if (this.#closed) queueMicrotask(finished);
    else {
      const body = chunk === undefined ? undefined : typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      this.#send(body, true, finished);
      this.writableFinished = true;
    }
    return this;
  }

  /**
   * Writes the pending head, the body bytes framed as the head said, and the last chunk if `last`;
   * `flushed` runs once everything written so far has gone to the kernel.
   */
  #send(chunk: Buffer | undefined, last: boolean, flushed?: () => void): boolean {
    const data = this.#bodyless || chunk === undefined || chunk.length === 0 ? undefined : chunk;
    const head = this.#head ?? "";
    this.#head = undefined;
    this.#headWritten = true;
    let prefix = head;
    let suffix = "";
    if (this.#chunked) {
      if (data !== undefined) {
        prefix += `${data.length.toString(16)}\r\n`;
        suffix = "\r\n";
      }
      if (last) suffix += LAST_CHUNK;
    }
    const socket = this.#socket;
    if (data === undefined) {
      const text = prefix + suffix;
      if (text !== "") return socket.write(text, "latin1", flushed);
      if (flushed !== undefined) {
        // Nothing more to write: done once what was written before has gone.
        if (socket.writableLength === 0) queueMicrotask(flushed);
        else socket.write(NOTHING, flushed);
      }
      return true;
    }
    if (prefix === "" && suffix === "") return socket.write(data, flushed);
    if (data.length > COPY_LIMIT) {
      // Corked, the three leave in one writev without copying the body.
      socket.cork();
      if (suffix === "") {
        socket.write(prefix, "latin1");
        socket.write(data, flushed);
      } else {
        socket.write(prefix, "latin1");
        socket.write(data);
        socket.write(suffix, "latin1", flushed);
      }
      socket.uncork();
      return socket.writableLength < socket.writableHighWaterMark;
    }
    // One buffer, one write: copying a small body is cheaper than a second write.
    const out = Buffer.allocUnsafe(prefix.length + data.length + suffix.length);
    out.write(prefix, 0, "latin1");
    data.copy(out, prefix.length);
    if (suffix !== "") out.write(suffix, prefix.length + data.length, "latin1");
    return socket.write(out, flushed);
  }

  destroy(): this {
    this.#socket.destroy();
    return this;
  }

  once(event: "drain" | "close", listener: () => void): this {
    if (event === "drain") this.#socket.once("drain", listener);
    else this.#onClose.push(listener);
    return this;
  }

  /** The response is over: sent, or its connection gone. Runs the `close` listeners once. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#onClose.splice(0)) listener();
  }
}
