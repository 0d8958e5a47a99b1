/**
 * A request's way through a proxy's configuration, as Envoy takes it: listener → HTTP connection
 * manager (or a TCP proxy) → RDS route configuration → virtual host by authority → first matching
 * route → cluster or weighted clusters → their hosts. The matching is the gateway's own
 * (src/envoy/route-match.ts), so explain and the local gateway cannot disagree. Without a request,
 * every route of every virtual host is a path of its own.
 */
import { findVirtualHost, routeMatches } from "../envoy/route-match.js";
import { field, isObject, type JsonObject, num, objects, str } from "../proxy-config/config-dump.js";
import type { EnvoyRouteMatch } from "../xds/route-types.js";
import type { ExplainRequest, Located, RouteContext, RoutedCluster } from "./context.js";
import { hostsOfAssignment, type ProxyView } from "./proxy-view.js";

const HCM =
  "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const TCP_PROXY = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

export interface TraceOptions {
  /** The request to follow; undefined: every route of every listener. */
  readonly request?: ExplainRequest;
  /** Only the listener on this port. */
  readonly port?: number;
  readonly appCookies: readonly string[];
}

function portOf(listener: JsonObject): number {
  return num(field(listener, "address", "socketAddress", "portValue"));
}

/** The network filters of a listener's filter chains, each with its path. */
function networkFilters(listener: Located<JsonObject>): Located<JsonObject>[] {
  const out: Located<JsonObject>[] = [];
  objects(listener.value.filterChains).forEach((chain, c) => {
    objects(chain.filters).forEach((f, i) => {
      if (isObject(f.typedConfig))
        out.push({
          value: f.typedConfig,
          path: `${listener.path}.filterChains[${c}].filters[${i}].typedConfig`,
        });
    });
  });
  return out;
}

function routedClusters(view: ProxyView, route: JsonObject): RoutedCluster[] {
  const action = field(route, "route");
  if (!isObject(action)) return [];
  const weighted = objects(field(action, "weightedClusters", "clusters"));
  const targets =
    weighted.length > 0
      ? weighted.map((w) => ({ name: str(w.name), weight: num(w.weight) }))
      : str(action.cluster) !== ""
        ? [{ name: str(action.cluster), weight: 1 }]
        : [];
  return targets.map(({ name, weight }) => {
    const cluster = view.clusters.get(name);
    const eds = str(field(cluster?.value, "edsClusterConfig", "serviceName")) || name;
    const assignment = view.assignments.get(eds);
    return {
      name,
      weight,
      ...(cluster ? { cluster } : {}),
      ...(assignment ? { assignment } : {}),
      hosts: hostsOfAssignment(view, name, assignment),
    };
  });
}

/** The route contexts of one listener: the request's route, or every route. */
function listenerContexts(
  view: ProxyView,
  listener: Located<JsonObject>,
  options: TraceOptions,
): RouteContext[] {
  const filters = networkFilters(listener);
  const hcm = filters.find((f) => f.value["@type"] === HCM);
  const request = options.request ?? { authority: "*", path: "/", method: "GET", headers: [] };
  const base = {
    proxy: view.proxy,
    request,
    listener: listener as Located<never>,
    appCookies: options.appCookies,
  };
  if (!hcm) {
    const tcp = filters.find((f) => f.value["@type"] === TCP_PROXY);
    if (!tcp) return [];
    const clusterName = str(tcp.value.cluster);
    const cluster = view.clusters.get(clusterName);
    return [
      {
        ...base,
        httpFilters: [],
        tcpProxy: tcp,
        clusters: clusterName
          ? [
              {
                name: clusterName,
                weight: 1,
                ...(cluster ? { cluster } : {}),
                hosts: hostsOfAssignment(view, clusterName, view.assignments.get(clusterName)),
              },
            ]
          : [],
      },
    ];
  }
  const httpFilters = objects(hcm.value.httpFilters).map((f) => str(f.name));
  const rdsName = str(field(hcm.value, "rds", "routeConfigName"));
  const inline = isObject(hcm.value.routeConfig)
    ? { value: hcm.value.routeConfig, path: `${hcm.path}.routeConfig` }
    : undefined;
  const routeConfig = (view.routeConfigs.get(rdsName) ?? inline) as RouteContext["routeConfig"];
  const http = { ...base, httpFilters, ...(routeConfig ? { routeConfig } : {}) };
  if (!routeConfig) return [{ ...http, clusters: [] }];
  const vhosts = objects(routeConfig.value.virtualHosts).map((v, i) => ({
    value: v,
    path: `${routeConfig.path}.virtualHosts[${i}]`,
    domains: Array.isArray(v.domains) ? v.domains.map(str) : [],
  }));
  const contexts: RouteContext[] = [];
  const push = (vh: (typeof vhosts)[number], route: JsonObject | undefined, r: number) =>
    contexts.push({
      ...http,
      virtualHost: { value: vh.value, path: vh.path },
      ...(route ? { route: { value: route, path: `${vh.path}.routes[${r}]` } } : {}),
      clusters: route ? routedClusters(view, route) : [],
    });
  if (options.request) {
    const ignorePort = routeConfig.value.ignorePortInHostMatching === true;
    const vh = findVirtualHost(vhosts, options.request.authority, ignorePort);
    if (!vh) return [{ ...http, clusters: [] }];
    const routes = objects(vh.value.routes);
    const r = routes.findIndex((route) =>
      routeMatches(route.match as EnvoyRouteMatch, {
        method: options.request?.method ?? "GET",
        path: options.request?.path ?? "/",
        authority: options.request?.authority ?? "",
        headers: options.request?.headers ?? [],
      }),
    );
    push(vh, routes[r], r);
    return contexts;
  }
  for (const vh of vhosts)
    objects(vh.value.routes).forEach((route, r) => {
      push(vh, route, r);
    });
  return contexts;
}

/** Every path the request (or, without one, every route) takes through the proxy's listeners. */
export function trace(view: ProxyView, options: TraceOptions): RouteContext[] {
  const listeners = view.listeners.filter(
    (l) => options.port === undefined || portOf(l.value) === options.port,
  );
  return listeners.flatMap((l) => listenerContexts(view, l as Located<JsonObject>, options));
}
