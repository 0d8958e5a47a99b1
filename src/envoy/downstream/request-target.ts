/**
 * The request line's target as Envoy's HTTP/1 codec takes it apart (codec_impl.cc
 * `ServerConnectionImpl::handlePath`, with utility.cc `Utility::Url::initialize` over http-parser's
 * `http_parser_parse_url`), under the connection manager's default `allow_absolute_url`:
 *
 * - an origin-form target (`/…`) is the path as sent;
 * - for OPTIONS, a target starting with `*` is the path as sent (the connection manager then answers
 *   404, as the path is not relative);
 * - anything else must be an absolute URL: a scheme of letters, `://`, an authority (optional
 *   userinfo before `@`, a host name or bracketed IPv6 address, an optional port up to 65535) and
 *   the rest. Its host and port (without the userinfo) replace Host; the rest, or `/` when there is
 *   none, is the path. A target that does not parse is a 400 (`http1.invalid_url`), as is a scheme
 *   other than http or https, in any case (`http1.invalid_scheme`).
 *
 * Pure: text in, a verdict out.
 */
import { isIPv6 } from "node:net";

export type RequestTarget =
  /** `authority` is set for an absolute URL. `path` may not start with `/` (OPTIONS `*`, `?q`). */
  | { readonly kind: "path"; readonly path: string; readonly authority?: string }
  /** Envoy's codec refuses it: 400 and the connection closes. */
  | { readonly kind: "invalid" };

const INVALID: RequestTarget = { kind: "invalid" };

function isAlpha(code: number): boolean {
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isAlphanumeric(code: number): boolean {
  return isAlpha(code) || isDigit(code);
}

/** http-parser's userinfo characters: unreserved, `%` and the sub-delimiters it allows. */
function isUserinfoChar(code: number): boolean {
  return isAlphanumeric(code) || "-_.!~*'()%;:&=+$,".includes(String.fromCharCode(code));
}

/** http-parser's (non-strict) host name characters. */
function isHostChar(code: number): boolean {
  return isAlphanumeric(code) || code === 0x2e || code === 0x2d || code === 0x5f;
}

/** What http-parser lets through in a path, query or fragment: no controls but HTAB and FF, no space. */
function isUrlChar(code: number): boolean {
  return code === 0x09 || code === 0x0c || (code > 0x20 && code !== 0x7f);
}

/**
 * The host and port of an authority (`[userinfo@]host[:port]`), or undefined when http-parser
 * would refuse it.
 */
function hostAndPort(authority: string): string | undefined {
  const at = authority.indexOf("@");
  for (let i = 0; i < at; i++) if (!isUserinfoChar(authority.charCodeAt(i))) return undefined;
  const host = authority.slice(at + 1);
  let end: number;
  if (host.startsWith("[")) {
    end = host.indexOf("]");
    if (end < 0 || !isIPv6(host.slice(1, end))) return undefined;
    end++;
  } else {
    end = 0;
    while (end < host.length && isHostChar(host.charCodeAt(end))) end++;
    if (end === 0) return undefined;
  }
  if (end === host.length) return host;
  if (host.charCodeAt(end) !== 0x3a /* : */ || end + 1 === host.length) return undefined;
  let port = 0;
  for (let i = end + 1; i < host.length; i++) {
    const code = host.charCodeAt(i);
    if (!isDigit(code)) return undefined;
    port = port * 10 + code - 0x30;
    if (port > 0xffff) return undefined;
  }
  return host;
}

/** The target of a request line with `method`. */
export function requestTarget(method: string, target: string): RequestTarget {
  if (target.charCodeAt(0) === 0x2f /* / */) return { kind: "path", path: target };
  if (method === "OPTIONS" && target.charCodeAt(0) === 0x2a /* * */) return { kind: "path", path: target };
  let i = 0;
  while (i < target.length && isAlpha(target.charCodeAt(i))) i++;
  if (i === 0 || !target.startsWith("://", i)) return INVALID;
  const scheme = target.slice(0, i).toLowerCase();
  const start = i + 3;
  let end = start;
  while (end < target.length) {
    const code = target.charCodeAt(end);
    if (code === 0x2f /* / */ || code === 0x3f /* ? */) break;
    if (code !== 0x40 /* @ */ && code !== 0x5b && code !== 0x5d && !isUserinfoChar(code)) return INVALID;
    end++;
  }
  const authority = target.slice(start, end);
  // A second `@` is refused by the URL parser; an empty authority leaves a scheme without a host.
  if (authority === "" || authority.indexOf("@") !== authority.lastIndexOf("@")) return INVALID;
  const host = hostAndPort(authority);
  if (host === undefined) return INVALID;
  for (let j = end; j < target.length; j++) if (!isUrlChar(target.charCodeAt(j))) return INVALID;
  if (scheme !== "http" && scheme !== "https") return INVALID;
  const rest = target.slice(end);
  return { kind: "path", path: rest === "" ? "/" : rest, authority: host };
}
