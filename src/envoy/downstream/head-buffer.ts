/**
 * The bytes of a client connection not yet consumed, and where the next request head in them
 * stands: complete (and simple or not), or still arriving. A head that arrives in one read, as
 * nearly all do, is found with one search and read once. A head that arrives in pieces is checked
 * as its bytes come, each byte once, so that one which can no longer be simple (a TLS hello, a bare
 * LF, a bad header line) is known at once and goes to Node's parser, which answers it at once as
 * it always has, rather than after the headers timeout.
 * Empty lines before a request line are skipped, as Node's parser skips them.
 * Pure: bytes in, a verdict out.
 */
import {
  parseSimpleRequestHead,
  REQUEST_LINE_START,
  type SimpleRequestHead,
  simpleHeaderField,
  simpleRequestTarget,
} from "./request-head.js";
import { MAX_REQUEST_HEADERS } from "./request-view.js";

export type HeadScan =
  | { readonly kind: "incomplete" }
  /** Not a simple request: Node's parser takes every pending byte. */
  | { readonly kind: "other" }
  | { readonly kind: "simple"; readonly head: SimpleRequestHead };

const CR = 0x0d;
const LF = 0x0a;
const END_OF_HEAD = Buffer.from("\r\n\r\n", "latin1");
const INCOMPLETE: HeadScan = { kind: "incomplete" };
const OTHER: HeadScan = { kind: "other" };

function isPlainByte(byte: number): boolean {
  return (byte >= 0x20 && byte < 0x7f) || byte === 0x09;
}

export class HeadBuffer {
  readonly #maxHeadBytes: number;
  #chunks: Buffer[] = [];
  #length = 0;
  /** Whether a byte other than CR or LF is pending: a request has begun. */
  #started = false;
  // The incremental check of a head arriving in pieces: how far it got, and what it has seen.
  #checked = 0;
  #lineStart = 0;
  #lines = 0;
  #hosts = 0;
  #cr = false;

  /** `maxHeadBytes`: a longer head is not simple (Node's parser then refuses it). */
  constructor(maxHeadBytes: number) {
    this.#maxHeadBytes = maxHeadBytes;
  }

  get length(): number {
    return this.#length;
  }

  /** Whether a request has begun: a byte other than CR or LF is pending. */
  get started(): boolean {
    return this.#started;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    if (!this.#started) {
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i] as number;
        if (byte !== CR && byte !== LF) {
          this.#started = true;
          break;
        }
      }
    }
  }

  /** Every pending byte, for Node's parser; the buffer is empty after. */
  take(): Buffer | undefined {
    const all = this.#join();
    this.#reset(undefined);
    return all;
  }

  /**
   * Whether a head is cut short here: a byte other than CR or LF after the last complete head (or
   * with none). Node's parser, fed the same bytes, would be in the middle of a request.
   */
  endsInPartialHead(): boolean {
    const data = this.#join();
    if (data === undefined) return false;
    let at = 0;
    for (;;) {
      while (at < data.length && (data[at] === CR || data[at] === LF)) at++;
      if (at === data.length) return false;
      const end = data.indexOf(END_OF_HEAD, at);
      if (end < 0) return true;
      at = end + 4;
    }
  }

  /** Where the next head stands; a simple one is consumed, with the bytes after it kept. */
  scan(): HeadScan {
    if (this.#checked === 0 && !this.#dropLeadingEmptyLines()) return INCOMPLETE;
    if (this.#length === 0) return INCOMPLETE;
    if (this.#chunks.length === 1 && this.#checked === 0) {
      // The usual case: a head that came whole, from its first byte.
      const data = this.#chunks[0] as Buffer;
      const end = data.indexOf(END_OF_HEAD);
      if (end >= 0) return this.#complete(data, end);
    }
    return this.#scanPieces();
  }

  /**
   * Empty lines before a request line are dropped as they come, as Node's parser skips them, so a
   * head always starts at the first pending byte. False while a lone CR waits for its LF.
   */
  #dropLeadingEmptyLines(): boolean {
    while (this.#length > 0) {
      const first = this.#chunks[0] as Buffer;
      if (first[0] !== CR) return true;
      if (this.#length < 2) return false;
      const second = first.length > 1 ? first[1] : (this.#chunks[1] as Buffer)[0];
      if (second !== LF) return true; // a bare CR: the scan says so
      this.#consume(2);
    }
    return true;
  }

  /** Drops `count` bytes from the front. */
  #consume(count: number): void {
    let left = count;
    this.#length -= count;
    while (left > 0) {
      const first = this.#chunks[0] as Buffer;
      if (first.length <= left) {
        this.#chunks.shift();
        left -= first.length;
      } else {
        this.#chunks[0] = first.subarray(left);
        left = 0;
      }
    }
  }

  /** The head in `data` up to `end`, where its final CRLFCRLF starts, is complete. */
  #complete(data: Buffer, end: number): HeadScan {
    if (end + 4 > this.#maxHeadBytes) return OTHER;
    const head = parseSimpleRequestHead(data.toString("latin1", 0, end));
    if (head === undefined) return OTHER;
    this.#reset(end + 4 < data.length ? data.subarray(end + 4) : undefined);
    return { kind: "simple", head };
  }

  /** Checks the bytes not yet checked, one by one, line by line. */
  #scanPieces(): HeadScan {
    const checked = this.#checked;
    // Only the last chunks hold bytes not yet checked: start at the first of them.
    const chunks = this.#chunks;
    let first = chunks.length;
    let offset = this.#length;
    while (first > 0 && offset > checked) offset -= (chunks[--first] as Buffer).length;
    // A line's end may join the chunks into one (#join); this goes on over the same bytes as they were.
    for (let c = first; c < chunks.length; c++) {
      const chunk = chunks[c] as Buffer;
      const from = Math.max(checked - offset, 0);
      for (let i = from; i < chunk.length; i++) {
        const position = offset + i;
        const byte = chunk[i] as number;
        if (byte === LF) {
          if (!this.#cr) return OTHER; // a bare LF
          this.#cr = false;
          const verdict = this.#lineEnded(position - 1);
          if (verdict !== undefined) return verdict;
          this.#lineStart = position + 1;
          continue;
        }
        if (this.#cr || !(byte === CR || isPlainByte(byte))) return OTHER; // a bare CR, or a byte never simple
        if (byte === CR) {
          this.#cr = true;
          continue;
        }
        if (this.#lines === 0) {
          const column = position - this.#lineStart;
          if (column < REQUEST_LINE_START.length && byte !== REQUEST_LINE_START.charCodeAt(column))
            return OTHER;
        }
      }
      offset += chunk.length;
      if (offset > checked) this.#checked = offset;
      if (offset > this.#maxHeadBytes) return OTHER;
    }
    return INCOMPLETE;
  }

  /**
   * The line from `#lineStart` to `end` (its CR) is complete: a verdict, or undefined to go on. The
   * request line is never empty (leading empty lines are dropped before any scan), so an empty line
   * ends the head.
   */
  #lineEnded(end: number): HeadScan | undefined {
    if (end === this.#lineStart) return this.#complete(this.#join() as Buffer, end - 2);
    const line = this.#slice(this.#lineStart, end);
    if (this.#lines === 0) {
      if (simpleRequestTarget(line) === undefined) return OTHER;
    } else {
      const field = simpleHeaderField(line);
      if (field === undefined || this.#lines > MAX_REQUEST_HEADERS) return OTHER;
      if (field[0] === "host" && this.#hosts++ > 0) return OTHER;
    }
    this.#lines++;
    return undefined;
  }

  /** The pending bytes `[start, end)` as latin1 text. */
  #slice(start: number, end: number): string {
    return (this.#join() as Buffer).toString("latin1", start, end);
  }

  /** The pending bytes as one buffer (joined once, then kept as the only chunk). */
  #join(): Buffer | undefined {
    if (this.#chunks.length === 0) return undefined;
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
    return this.#chunks[0];
  }

  #reset(rest: Buffer | undefined): void {
    this.#chunks = [];
    this.#length = 0;
    this.#started = false;
    this.#checked = 0;
    this.#lineStart = 0;
    this.#lines = 0;
    this.#hosts = 0;
    this.#cr = false;
    if (rest !== undefined) this.append(rest);
  }
}
