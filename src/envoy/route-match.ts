/**
 * Envoy's route matching for a RouteConfiguration, pure: the virtual host by `:authority`, then the
 * first route whose RouteMatch holds, then a weighted cluster drawn per request.
 *
 * - Virtual hosts (envoy: source/common/router/config_impl.cc findVirtualHost): an exact domain, then
 *   the longest `*suffix` wildcard, then the longest `prefix*` wildcard, then `*`; lower-cased; the port
 *   is dropped first when the configuration says ignore_port_in_host_matching (Istio's gateways do).
 * - Paths (common/common/matchers.cc PathMatcher): prefix, exact path and safe_regex see the path
 *   without its query or fragment; case_sensitive (default true) covers prefix and path, never a regex.
 * - Headers (common/http/header_utility.cc): repeated values joined with ","; a missing header fails
 *   every matcher except present_match, unless treat_missing_header_as_empty; invert_match flips.
 * - Query parameters (common/router/config_utility.cc matchQueryParams): the first value, decoded;
 *   `?name` has the empty value.
 */

import { re2FullMatch } from "../re2.js";
import type {
  EnvoyHeaderMatcher,
  EnvoyQueryParameterMatcher,
  EnvoyRouteMatch,
  EnvoyStringMatcher,
} from "../xds/route-types.js";

export interface RouteRequest {
  readonly method: string;
  /** The path with its query string, as the request line has it (normalized). */
  readonly path: string;
  /** The Host / :authority header. */
  readonly authority: string;
  /** Lower-case header names; repeated headers appear repeatedly. */
  readonly headers: readonly (readonly [string, string])[];
}

/** envoy.type.matcher.v3.StringMatcher (Envoy's StringMatcherImpl). */
export function stringMatches(m: EnvoyStringMatcher, value: string): boolean {
  const ignoreCase = m.ignoreCase === true;
  const v = ignoreCase ? value.toLowerCase() : value;
  const lower = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  if (m.exact !== undefined) return v === lower(m.exact);
  if (m.prefix !== undefined) return v.startsWith(lower(m.prefix));
  if (m.suffix !== undefined) return v.endsWith(lower(m.suffix));
  if (m.contains !== undefined) return v.includes(lower(m.contains));
  if (m.safeRegex !== undefined) return re2FullMatch(m.safeRegex.regex, value);
  // A StringMatcher with no pattern is refused by Envoy's config validation.
  return false;
}

function stripPort(authority: string): string {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(":");
  return colon < 0 ? authority : authority.slice(0, colon);
}

/** The virtual host a request's authority selects, Envoy's way; undefined means 404 (NR). */
export function findVirtualHost<V extends { readonly domains: readonly string[] }>(
  virtualHosts: readonly V[],
  authority: string,
  ignorePort: boolean,
): V | undefined {
  const host = (ignorePort ? stripPort(authority) : authority).toLowerCase();
  let suffix: { vh: V; length: number } | undefined;
  let prefix: { vh: V; length: number } | undefined;
  let any: V | undefined;
  for (const vh of virtualHosts) {
    for (const raw of vh.domains) {
      const d = raw.toLowerCase();
      if (d === host) return vh;
      if (d === "*") {
        any ??= vh;
      } else if (d.startsWith("*")) {
        const tail = d.slice(1);
        // The wildcard stands for at least one character.
        if (host.length > tail.length && host.endsWith(tail) && (!suffix || tail.length > suffix.length))
          suffix = { vh, length: tail.length };
      } else if (d.endsWith("*")) {
        const head = d.slice(0, -1);
        if (host.length > head.length && host.startsWith(head) && (!prefix || head.length > prefix.length))
          prefix = { vh, length: head.length };
      }
    }
  }
  return suffix?.vh ?? prefix?.vh ?? any;
}

function pathOnly(path: string): string {
  let end = path.length;
  const q = path.indexOf("?");
  if (q >= 0) end = q;
  const h = path.indexOf("#");
  if (h >= 0 && h < end) end = h;
  return path.slice(0, end);
}

function headerValue(request: RouteRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  // Envoy's HTTP/1 codec turns the request line and Host into these pseudo-headers.
  if (lower === ":authority" || lower === "host") return request.authority;
  if (lower === ":method") return request.method;
  if (lower === ":path") return request.path;
  if (lower === ":scheme") return "http";
  let joined: string | undefined;
  for (const [k, v] of request.headers) if (k === lower) joined = joined === undefined ? v : `${joined},${v}`;
  return joined;
}

export function headerMatches(m: EnvoyHeaderMatcher, request: RouteRequest): boolean {
  const value = headerValue(request, m.name);
  const invert = m.invertMatch === true;
  if (m.presentMatch !== undefined) return ((value !== undefined) === m.presentMatch) !== invert;
  const seen = value ?? (m.treatMissingHeaderAsEmpty ? "" : undefined);
  if (seen === undefined) return false;
  let result: boolean;
  if (m.stringMatch) result = stringMatches(m.stringMatch, seen);
  else if (m.exactMatch !== undefined) result = seen === m.exactMatch;
  else if (m.prefixMatch !== undefined) result = seen.startsWith(m.prefixMatch);
  else if (m.suffixMatch !== undefined) result = seen.endsWith(m.suffixMatch);
  else if (m.containsMatch !== undefined) result = seen.includes(m.containsMatch);
  else if (m.safeRegexMatch !== undefined) result = re2FullMatch(m.safeRegexMatch.regex, seen);
  // No matcher at all: Envoy checks presence only.
  else result = true;
  return result !== invert;
}

/** Percent-decoding that leaves a malformed escape as it is, as Envoy's PercentEncoding::decode does. */
function decodeComponent(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
  }
}

function queryValue(path: string, name: string): string | undefined {
  const q = path.indexOf("?");
  if (q < 0) return undefined;
  const h = path.indexOf("#", q);
  const query = path.slice(q + 1, h < 0 ? undefined : h);
  for (const param of query.split("&")) {
    if (param === "") continue;
    const eq = param.indexOf("=");
    const key = decodeComponent(eq < 0 ? param : param.slice(0, eq));
    if (key === name) return eq < 0 ? "" : decodeComponent(param.slice(eq + 1));
  }
  return undefined;
}

function queryMatches(m: EnvoyQueryParameterMatcher, path: string): boolean {
  const value = queryValue(path, m.name);
  if (m.presentMatch !== undefined) return m.presentMatch === (value !== undefined);
  if (value === undefined) return false;
  return m.stringMatch ? stringMatches(m.stringMatch, value) : true;
}

/** Whether a RouteMatch holds for a request. */
export function routeMatches(m: EnvoyRouteMatch, request: RouteRequest): boolean {
  const path = pathOnly(request.path);
  const caseSensitive = m.caseSensitive !== false;
  const fold = (s: string) => (caseSensitive ? s : s.toLowerCase());
  if (m.prefix !== undefined) {
    if (!fold(path).startsWith(fold(m.prefix))) return false;
  } else if (m.path !== undefined) {
    if (fold(path) !== fold(m.path)) return false;
  } else if (m.pathSeparatedPrefix !== undefined) {
    const p = fold(m.pathSeparatedPrefix);
    const f = fold(path);
    if (!(f === p || f.startsWith(`${p}/`))) return false;
  } else if (m.safeRegex !== undefined) {
    if (!re2FullMatch(m.safeRegex.regex, path)) return false;
  } else return false;
  for (const h of m.headers ?? []) if (!headerMatches(h, request)) return false;
  for (const q of m.queryParameters ?? []) if (!queryMatches(q, request.path)) return false;
  return true;
}

/**
 * Envoy's weighted_clusters pick: a draw in [0, total weight) walks the clusters in order.
 * `draw` returns an integer in [0, total).
 */
export function pickWeighted(
  destinations: readonly { readonly cluster: string; readonly weight: number }[],
  draw: (total: number) => number,
): string | undefined {
  const [first] = destinations;
  if (destinations.length === 1) return first?.cluster;
  const total = destinations.reduce((sum, d) => sum + d.weight, 0);
  if (total <= 0) return first?.cluster;
  let point = draw(total);
  for (const d of destinations) {
    if (point < d.weight) return d.cluster;
    point -= d.weight;
  }
  return destinations.at(-1)?.cluster;
}
