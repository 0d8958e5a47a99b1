/**
 * A RouteConfiguration as the gateway's router runs it: every route's match, destination clusters,
 * hash policies, retry policy, timeout and stateful session read once per push, so a request does
 * no JSON walking. Built only from xDS; the listener names the RouteConfiguration (RDS).
 */
import { SessionAffinityError } from "../errors.js";
import type { HashPolicy } from "../lb/hash-policy.js";
import type { SessionStateConfig } from "../lb/stateful-session.js";
import type { EnvoyListener } from "../xds/listener-types.js";
import type { EnvoyRoute, EnvoyRouteConfiguration, EnvoyRouteMatch } from "../xds/route-types.js";
import {
  hashPolicyOf,
  type RetrySettings,
  retrySettingsOf,
  routeSessionOf,
  routeTimeoutMs,
  STATEFUL_SESSION_FILTER,
} from "./route-action.js";
import { findVirtualHost, pickWeighted, type RouteRequest, routeMatches } from "./route-match.js";

export type { RetrySettings } from "./route-action.js";

export interface RouteConfig {
  /** The route's name, else the Istio config it came from (its metadata), else its position. */
  readonly name: string;
  readonly match: EnvoyRouteMatch;
  readonly destinations: readonly { readonly cluster: string; readonly weight: number }[];
  readonly hashPolicies: readonly HashPolicy[];
  readonly retry: RetrySettings;
  /** Route timeout (ms); undefined when disabled. */
  readonly timeoutMs?: number;
  /** The stateful session of this route, when the listener runs the filter and the route configures it. */
  readonly session?: SessionStateConfig;
}

export interface VirtualHostConfig {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly RouteConfig[];
}

export interface RouteTable {
  /** The listener served on the gateway's port, or undefined: no listener, no HTTP. */
  readonly listener: string | undefined;
  readonly virtualHosts: readonly VirtualHostConfig[];
  readonly ignorePortInHostMatching: boolean;
}

export const EMPTY_ROUTE_TABLE: RouteTable = {
  listener: undefined,
  virtualHosts: [],
  ignorePortInHostMatching: false,
};

const HCM = "envoy.filters.network.http_connection_manager";

function routeOf(route: EnvoyRoute, where: string, sessionFilter: boolean): RouteConfig {
  const action = route.route;
  if (!action) throw new SessionAffinityError("ERR_XDS", `${where}: only route actions are implemented`);
  const destinations = action.weightedClusters
    ? action.weightedClusters.clusters.map((c) => ({ cluster: c.name, weight: c.weight }))
    : action.cluster !== undefined
      ? [{ cluster: action.cluster, weight: 1 }]
      : [];
  if (destinations.length === 0)
    throw new SessionAffinityError("ERR_XDS", `${where}.route: names no cluster`);
  const timeoutMs = routeTimeoutMs(action.timeout, `${where}.route`);
  const session = sessionFilter
    ? routeSessionOf(route.typedPerFilterConfig, `${where}.typedPerFilterConfig`)
    : undefined;
  return {
    name: route.name ?? route.metadata?.filterMetadata?.istio?.config ?? where,
    match: route.match,
    destinations,
    hashPolicies: (action.hashPolicy ?? []).flatMap(
      (p, i) => hashPolicyOf(p, `${where}.route.hashPolicy[${i}]`) ?? [],
    ),
    retry: retrySettingsOf(action.retryPolicy, `${where}.route.retryPolicy`),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(session ? { session } : {}),
  };
}

/**
 * The route table of the listener bound to `port` (the gateway pod's port, 8080 for Istio's ingress
 * gateway): its HTTP connection manager's RDS name looked up among the RouteConfigurations.
 */
export function routeTableOf(
  listeners: readonly EnvoyListener[],
  routes: readonly EnvoyRouteConfiguration[],
  port: number,
): RouteTable {
  const listener = listeners.find((l) => l.address.socketAddress.portValue === port);
  if (!listener) return EMPTY_ROUTE_TABLE;
  const hcm = listener.filterChains.flatMap((c) => c.filters).find((f) => f.name === HCM)?.typedConfig;
  if (!hcm) return { ...EMPTY_ROUTE_TABLE, listener: listener.name };
  const sessionFilter = hcm.httpFilters.some((f) => f.name === STATEFUL_SESSION_FILTER);
  const config = routes.find((r) => r.name === hcm.rds.routeConfigName);
  if (!config) return { ...EMPTY_ROUTE_TABLE, listener: listener.name };
  return {
    listener: listener.name,
    ignorePortInHostMatching: config.ignorePortInHostMatching === true,
    virtualHosts: config.virtualHosts.map((vh, v) => ({
      name: vh.name,
      domains: vh.domains,
      routes: (vh.routes ?? []).map((r, i) =>
        routeOf(r, `RouteConfiguration ${config.name}.virtualHosts[${v}].routes[${i}]`, sessionFilter),
      ),
    })),
  };
}

/** The route for a request, or undefined (Envoy's 404, NR) when no virtual host or route matches. */
export function routeRequest(table: RouteTable, request: RouteRequest): RouteConfig | undefined {
  const vh = findVirtualHost(table.virtualHosts, request.authority, table.ignorePortInHostMatching);
  return vh?.routes.find((r) => routeMatches(r.match, request));
}

/** The destination cluster of one request: weighted clusters drawn per request. */
export function pickDestination(route: RouteConfig, draw: (total: number) => number): string | undefined {
  return pickWeighted(route.destinations, draw);
}

export type { RouteRequest } from "./route-match.js";
