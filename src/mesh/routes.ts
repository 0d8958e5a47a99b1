/**
 * Request → route, as Envoy's HTTP connection manager does with the route configuration istiod
 * builds: the virtual host by Host header (exact domain, then the longest `*.suffix`, then `*`), the
 * first route whose match block matches (match blocks are ORed, conditions inside one are ANDed;
 * no match block matches everything), then a weighted destination drawn per request. Pure.
 */
import type { GatewayConfig, RouteConfig, VirtualHostConfig } from "./gateway-config.js";
import type { HttpMatch, StringMatch } from "./model.js";
import { PRESENT_MATCH_REGEX, re2FullMatch } from "./re2.js";

export interface RouteRequest {
  readonly method: string;
  /** The raw path including the query string. */
  readonly path: string;
  /** The Host / :authority header. */
  readonly authority: string;
  /** Lower-case header names; repeated headers appear repeatedly. */
  readonly headers: readonly (readonly [string, string])[];
}

export function findVirtualHost(config: GatewayConfig, authority: string): VirtualHostConfig | undefined {
  const host = stripPort(authority).toLowerCase();
  let best: VirtualHostConfig | undefined;
  let bestRank = -1;
  for (const vh of config.virtualHosts) {
    for (const domain of vh.domains) {
      const d = domain.toLowerCase();
      let rank = -1;
      if (d === host) rank = Number.MAX_SAFE_INTEGER;
      else if (d === "*") rank = 0;
      else if (d.startsWith("*") && host.endsWith(d.slice(1)) && host.length > d.length - 1) rank = d.length;
      if (rank > bestRank) {
        best = vh;
        bestRank = rank;
      }
    }
  }
  return best;
}

function stripPort(authority: string): string {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(":");
  return colon < 0 ? authority : authority.slice(0, colon);
}

/**
 * `ignoreCase` (ignoreUriCase) covers exact and prefix only: Envoy ignores case_sensitive for
 * safe_regex (route_components.proto RouteMatch), so a regex is case-insensitive only with `(?i)`.
 */
export function stringMatches(match: StringMatch, value: string, ignoreCase = false): boolean {
  const v = ignoreCase ? value.toLowerCase() : value;
  if (match.exact !== undefined) return v === (ignoreCase ? match.exact.toLowerCase() : match.exact);
  if (match.prefix !== undefined) return v.startsWith(ignoreCase ? match.prefix.toLowerCase() : match.prefix);
  // Only withoutHeaders lets "*" through validation; Istio makes it Envoy's present_match.
  if (match.regex === PRESENT_MATCH_REGEX) return true;
  if (match.regex !== undefined) return re2FullMatch(match.regex, value);
  return true;
}

function headerValue(headers: RouteRequest["headers"], name: string): string | undefined {
  const values = headers.filter(([k]) => k === name).map(([, v]) => v);
  // Envoy matches a repeated header against its values joined with ",".
  return values.length === 0 ? undefined : values.join(",");
}

function queryValue(path: string, name: string): string | undefined {
  const q = path.indexOf("?");
  if (q < 0) return undefined;
  for (const param of path.slice(q + 1).split("&")) {
    const eq = param.indexOf("=");
    const key = eq < 0 ? param : param.slice(0, eq);
    if (key === name) return eq < 0 ? "" : param.slice(eq + 1);
  }
  return undefined;
}

export function matches(match: HttpMatch, request: RouteRequest): boolean {
  const q = request.path.indexOf("?");
  const path = q < 0 ? request.path : request.path.slice(0, q);
  if (match.uri && !stringMatches(match.uri, path, match.ignoreUriCase)) return false;
  if (match.method && !stringMatches(match.method, request.method)) return false;
  if (match.authority && !stringMatches(match.authority, request.authority)) return false;
  for (const [name, m] of Object.entries(match.headers ?? {})) {
    const value = headerValue(request.headers, name);
    if (value === undefined || !stringMatches(m, value)) return false;
  }
  for (const [name, m] of Object.entries(match.withoutHeaders ?? {})) {
    const value = headerValue(request.headers, name);
    if (value !== undefined && stringMatches(m, value)) return false;
  }
  for (const [name, m] of Object.entries(match.queryParams ?? {})) {
    const value = queryValue(request.path, name);
    if (value === undefined || !stringMatches(m, value)) return false;
  }
  return true;
}

export function findRoute(vh: VirtualHostConfig, request: RouteRequest): RouteConfig | undefined {
  return vh.routes.find((r) => r.match.length === 0 || r.match.some((m) => matches(m, request)));
}

/** The route for a request, or undefined (Envoy's 404, NR) when no virtual host or route matches. */
export function routeRequest(config: GatewayConfig, request: RouteRequest): RouteConfig | undefined {
  const vh = findVirtualHost(config, request.authority);
  return vh ? findRoute(vh, request) : undefined;
}

/**
 * Envoy's weighted_clusters pick: a draw in [0, total weight) walks the destinations in order.
 * `draw` returns an integer in [0, total).
 */
export function pickDestination(route: RouteConfig, draw: (total: number) => number): string | undefined {
  const [first] = route.destinations;
  if (route.destinations.length === 1) return first?.cluster;
  const total = route.destinations.reduce((sum, d) => sum + d.weight, 0);
  if (total <= 0) return first?.cluster;
  let point = draw(total);
  for (const d of route.destinations) {
    if (point < d.weight) return d.cluster;
    point -= d.weight;
  }
  return route.destinations.at(-1)?.cluster;
}
