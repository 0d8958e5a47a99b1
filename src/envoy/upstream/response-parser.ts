/**
 * An incremental HTTP/1.1 response parser for the gateway's upstream side: the status line and
 * headers, then the body as framed by RFC 9112 §6.3 (none for HEAD, 1xx, 204 and 304; chunked;
 * Content-Length; otherwise until the connection closes). Interim 1xx responses are skipped, as the
 * gateway answers `Expect: 100-continue` itself. Strict where a lenient parser would let two parties
 * disagree on where a response ends: bare CR or LF, folded lines, a Transfer-Encoding that is not
 * exactly `chunked` and conflicting lengths are protocol errors; bytes after a complete response
 * keep the response but rule out reusing the connection.
 * Pure: bytes in, callbacks out.
 */

export class ResponseParseError extends Error {
  override name = "ResponseParseError";
}

export interface ResponseHead {
  readonly status: number;
  /** Name/value pairs as received, flattened (`[name0, value0, name1, value1, …]`). */
  readonly headers: readonly string[];
  /** Whether the connection can carry another request once this response has ended. */
  readonly keepAlive: boolean;
  /** The `timeout=` of a `Keep-Alive` header, in ms: how long the upstream keeps an idle connection. */
  readonly keepAliveTimeoutMs?: number;
}

export interface ResponseEvents {
  head(head: ResponseHead): void;
  body(chunk: Buffer): void;
  end(): void;
  /**
   * A `101 Switching Protocols` answered an upgrade request (see `reset`), after its `head`: the
   * connection now carries another protocol, starting with `rest`. Nothing is parsed after it.
   */
  upgraded?(rest: Buffer): void;
}

const LF = 0x0a;
const MAX_CHUNK_SIZE_DIGITS = 12;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;

type State =
  | "head"
  | "fixed"
  | "chunk-size"
  | "chunk-data"
  | "chunk-data-end"
  | "trailers"
  | "until-close"
  | "upgraded"
  | "done";

export class ResponseParser {
  readonly #events: ResponseEvents;
  readonly #maxHeadBytes: number;
  #headRequest = false;
  #upgradeRequest = false;
  #state: State = "head";
  #pending: Buffer | undefined;
  #remaining = 0;
  #keepAlive = true;

  constructor(events: ResponseEvents, maxHeadBytes = 60 * 1024) {
    this.#events = events;
    this.#maxHeadBytes = maxHeadBytes;
  }

  /**
   * Starts a new response; `headRequest` when it answers HEAD (no body whatever the headers say),
   * `upgradeRequest` when it answers an upgrade (WebSocket) request, the only case a 101 is accepted.
   */
  reset(headRequest: boolean, upgradeRequest = false): void {
    this.#headRequest = headRequest;
    this.#upgradeRequest = upgradeRequest;
    this.#state = "head";
    this.#pending = undefined;
    this.#remaining = 0;
    this.#keepAlive = true;
  }

  get done(): boolean {
    return this.#state === "done";
  }

  /** Whether a 101 ended HTTP on this connection. */
  get upgraded(): boolean {
    return this.#state === "upgraded";
  }

  /** Whether the connection may be reused after this (complete) response. */
  get keepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Feeds bytes from the connection; throws ResponseParseError on a malformed response. */
  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    // Narrowing on #state here would wrongly survive into the loop, which moves it on: ask the getter.
    if (this.done) throw new ResponseParseError("data after the end of the response");
    if (this.upgraded) throw new ResponseParseError("data after an upgrade");
    const data = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = undefined;
    let at = 0;
    while (at < data.length && !this.done && !this.upgraded) {
      switch (this.#state) {
        case "head": {
          const end = data.indexOf("\r\n\r\n", at, "latin1");
          if (end < 0) {
            if (data.length - at > this.#maxHeadBytes)
              throw new ResponseParseError("response headers too large");
            this.#pending = data.subarray(at);
            return;
          }
          if (end - at > this.#maxHeadBytes) throw new ResponseParseError("response headers too large");
          const text = data.toString("latin1", at, end);
          at = end + 4;
          this.#head(text);
          break;
        }
        case "fixed": {
          const take = Math.min(this.#remaining, data.length - at);
          this.#events.body(data.subarray(at, at + take));
          at += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case "chunk-size": {
          const eol = data.indexOf(LF, at);
          if (eol < 0) {
            if (data.length - at > 1024) throw new ResponseParseError("chunk size line too long");
            this.#pending = data.subarray(at);
            return;
          }
          const line = data.toString("latin1", at, eol);
          at = eol + 1;
          this.#remaining = chunkSize(line);
          this.#state = this.#remaining === 0 ? "trailers" : "chunk-data";
          break;
        }
        case "chunk-data": {
          const take = Math.min(this.#remaining, data.length - at);
          this.#events.body(data.subarray(at, at + take));
          at += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = "chunk-data-end";
          break;
        }
        case "chunk-data-end": {
          if (data.length - at < 2) {
            this.#pending = data.subarray(at);
            return;
          }
          if (data[at] !== 0x0d || data[at + 1] !== LF)
            throw new ResponseParseError("chunk not followed by CRLF");
          at += 2;
          this.#state = "chunk-size";
          break;
        }
        case "trailers": {
          const eol = data.indexOf(LF, at);
          if (eol < 0) {
            if (data.length - at > this.#maxHeadBytes)
              throw new ResponseParseError("response trailers too large");
            this.#pending = data.subarray(at);
            return;
          }
          const line = data.toString("latin1", at, eol);
          at = eol + 1;
          if (!line.endsWith("\r") || line.slice(0, -1).includes("\r"))
            throw new ResponseParseError("bare LF in trailers");
          // Trailers are dropped: the downstream response has already been framed without them.
          if (line === "\r") this.#complete();
          break;
        }
        case "until-close":
          this.#events.body(at === 0 ? data : data.subarray(at));
          return;
      }
    }
    if (this.upgraded) {
      this.#events.upgraded?.(data.subarray(at));
      return;
    }
    if (!this.done) return;
    // Bytes after a complete response: the response stands (Envoy delivers it too), but the connection
    // is out of step and is not reused; decided before the end is announced.
    if (at < data.length) this.#keepAlive = false;
    this.#events.end();
  }

  /** The connection closed: ends a close-delimited body, or says the response was cut short. */
  finish(): void {
    if (this.#state === "until-close") {
      this.#state = "done";
      this.#events.end();
      return;
    }
    if (this.#state !== "done") throw new ResponseParseError("connection closed before the response ended");
  }

  #head(text: string): void {
    let eol = text.indexOf("\r\n");
    if (eol < 0) eol = text.length;
    const match = STATUS_LINE.exec(text.slice(0, eol));
    if (!match) throw new ResponseParseError("malformed status line");
    const http10 = match[1] === "0";
    const status = Number(match[2]);
    if (status < 100) throw new ResponseParseError(`invalid status ${status}`);
    const headers: string[] = [];
    let contentLength: number | undefined;
    let chunked = false;
    let close = http10;
    let keepAliveTimeoutMs: number | undefined;
    for (let start = eol + 2; start < text.length; start = eol + 2) {
      eol = text.indexOf("\r\n", start);
      if (eol < 0) eol = text.length;
      const colon = text.indexOf(":", start);
      if (colon <= start || colon > eol) throw new ResponseParseError("malformed header line");
      const name = text.slice(start, colon);
      if (!TOKEN.test(name)) throw new ResponseParseError(`invalid header name ${JSON.stringify(name)}`);
      const value = trimOws(text, colon + 1, eol);
      if (hasControlCharacter(value)) throw new ResponseParseError(`invalid character in header ${name}`);
      headers.push(name, value);
      switch (name.toLowerCase()) {
        case "content-length": {
          if (!/^\d{1,15}$/.test(value)) throw new ResponseParseError("invalid content-length");
          const n = Number(value);
          if (contentLength !== undefined && contentLength !== n)
            throw new ResponseParseError("conflicting content-length");
          contentLength = n;
          break;
        }
        case "transfer-encoding":
          if (value.toLowerCase() !== "chunked" || chunked)
            throw new ResponseParseError(`unsupported transfer-encoding ${JSON.stringify(value)}`);
          chunked = true;
          break;
        case "connection": {
          const tokens = value.toLowerCase().split(",");
          for (const token of tokens) {
            const t = token.trim();
            if (t === "close") close = true;
            else if (t === "keep-alive" && http10) close = false;
          }
          break;
        }
        case "keep-alive": {
          const timeout = /(?:^|[,;\s])timeout=(\d+)/i.exec(value);
          if (timeout) keepAliveTimeoutMs = Number(timeout[1]) * 1000;
          break;
        }
      }
    }
    if (status === 101) {
      if (!this.#upgradeRequest)
        throw new ResponseParseError("101 Switching Protocols without an upgrade request");
      this.#keepAlive = false;
      this.#events.head({ status, headers, keepAlive: false });
      this.#state = "upgraded";
      return;
    }
    if (status < 200) return; // an interim response: the real one follows on the same connection
    if (chunked && contentLength !== undefined)
      throw new ResponseParseError("both transfer-encoding and content-length");
    const bodyless = this.#headRequest || status === 204 || status === 304;
    // A body that ends with the connection leaves nothing to reuse; decided before `head` reports it.
    const untilClose = !bodyless && !chunked && contentLength === undefined;
    this.#keepAlive = !close && !untilClose;
    this.#events.head(
      keepAliveTimeoutMs === undefined
        ? { status, headers, keepAlive: this.#keepAlive }
        : { status, headers, keepAlive: this.#keepAlive, keepAliveTimeoutMs },
    );
    if (bodyless) this.#complete();
    else if (chunked) this.#state = "chunk-size";
    else if (contentLength !== undefined) {
      this.#remaining = contentLength;
      if (contentLength === 0) this.#complete();
      else this.#state = "fixed";
    } else this.#state = "until-close";
  }

  #complete(): void {
    this.#state = "done";
  }
}

function chunkSize(line: string): number {
  if (!line.endsWith("\r")) throw new ResponseParseError("bare LF in chunk size line");
  const semicolon = line.indexOf(";");
  // RFC 9112 §7.1.1: whitespace (BWS) may only come before a chunk extension's ";".
  const digits = (semicolon < 0 ? line.slice(0, -1) : line.slice(0, semicolon)).replace(/[ \t]+$/, "");
  if (digits.length === 0 || digits.length > MAX_CHUNK_SIZE_DIGITS || !/^[0-9a-fA-F]+$/.test(digits))
    throw new ResponseParseError("invalid chunk size");
  if (semicolon >= 0 && line.slice(semicolon, -1).includes("\r"))
    throw new ResponseParseError("bare CR in chunk extension");
  return Number.parseInt(digits, 16);
}

/** The field value without leading and trailing SP/HTAB (RFC 9110 §5.5; `trim` would also drop NBSP). */
function trimOws(line: string, from: number, to: number): string {
  let start = from;
  let end = to;
  while (start < end && (line.charCodeAt(start) === 0x20 || line.charCodeAt(start) === 0x09)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 0x20 || line.charCodeAt(end - 1) === 0x09)) end--;
  return line.slice(start, end);
}

/** Whether a field value holds a control character other than HTAB, which Node's parser refuses too. */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}
