/**
 * The gateway's own reader for the request heads almost every client sends: `GET`, HTTP/1.1, an
 * origin-form target, no body, no upgrade, one Host. It answers only "this is such a request, and
 * here it is" or "not one of those"; anything it does not positively recognise (another method or
 * version, a body, `Expect`, `Connection` or `Proxy-Connection` other than keep-alive, obs-text,
 * folded lines, a bare CR or LF, too many headers, a missing or repeated Host) goes to Node's HTTP
 * parser instead, which then answers exactly as it always has, errors included. So it may be
 * stricter than Node's parser, never looser.
 * Pure: text in, a head or undefined out. The line checks are shared with head-buffer.ts, which
 * applies them to a head still arriving.
 */
import { MAX_REQUEST_HEADERS } from "./request-view.js";

export interface SimpleRequestHead {
  readonly method: "GET";
  /** The origin-form target as sent. */
  readonly target: string;
  /** Names lower-cased, values with surrounding whitespace removed, in order. */
  readonly headers: [string, string][];
  /** The Host header's value. */
  readonly authority: string;
}

/** What every simple request line starts with. */
export const REQUEST_LINE_START = "GET /";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Visible ASCII only: no controls, no space, no bytes ≥ 0x80. */
function isPlainTarget(target: string): boolean {
  if (target.charCodeAt(0) !== 0x2f /* / */) return false;
  for (let i = 1; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) return false;
  }
  return true;
}

/** A field value of visible ASCII, spaces and tabs (no obs-text, no controls). */
function isPlainValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code >= 0x7f) return false;
  }
  return true;
}

function trimWhitespace(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** The target of a simple request line (`GET <origin-form> HTTP/1.1`), or undefined. */
export function simpleRequestTarget(line: string): string | undefined {
  if (!line.startsWith(REQUEST_LINE_START) || !line.endsWith(" HTTP/1.1")) return undefined;
  const target = line.slice(4, line.length - 9);
  return isPlainTarget(target) ? target : undefined;
}

/**
 * A header line of a simple request as `[lower-cased name, trimmed value]`, or undefined when it is
 * malformed or says the request is not simple (a body, an upgrade, `Expect`, a close).
 */
export function simpleHeaderField(line: string): [string, string] | undefined {
  const colon = line.indexOf(":");
  if (colon <= 0) return undefined;
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) return undefined;
  const raw = line.slice(colon + 1);
  if (!isPlainValue(raw)) return undefined;
  const value = trimWhitespace(raw);
  const lower = name.toLowerCase();
  switch (lower) {
    case "connection":
    // Node's parser reads Proxy-Connection as it reads Connection.
    case "proxy-connection":
      if (value.toLowerCase() !== "keep-alive") return undefined;
      break;
    case "content-length":
    case "transfer-encoding":
    case "upgrade":
    case "expect":
      return undefined;
  }
  return [lower, value];
}

/**
 * `head` is the request head without its final empty line (everything before `\r\n\r\n`), decoded
 * as latin1. The simple request it holds, or undefined when Node's parser should have it.
 */
export function parseSimpleRequestHead(head: string): SimpleRequestHead | undefined {
  let lineEnd = head.indexOf("\r\n");
  if (lineEnd < 0) lineEnd = head.length;
  const target = simpleRequestTarget(head.slice(0, lineEnd));
  if (target === undefined) return undefined;
  const headers: [string, string][] = [];
  let authority: string | undefined;
  let at = lineEnd + 2;
  while (at < head.length) {
    if (headers.length === MAX_REQUEST_HEADERS) return undefined;
    let end = head.indexOf("\r\n", at);
    if (end < 0) end = head.length;
    const field = simpleHeaderField(head.slice(at, end));
    if (field === undefined) return undefined;
    if (field[0] === "host") {
      if (authority !== undefined) return undefined;
      authority = field[1];
    }
    headers.push(field);
    at = end + 2;
  }
  if (authority === undefined) return undefined;
  return { method: "GET", target, headers, authority };
}
