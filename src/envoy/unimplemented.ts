/**
 * What the gateway does not act on in a snapshot, so nothing is ignored silently: every field of
 * every resource is either run as Envoy runs it, inert in a single local proxy (names, metadata,
 * stat prefixes, the ADS config source, mTLS details of a plaintext listener), or listed here with
 * its resource. The admin API and `proxy-config` show the list; docs/local-mesh.md explains it.
 */
import { HTTP_PROTOCOL_OPTIONS_KEY } from "../xds/cluster-types.js";
import type { XdsSnapshot } from "../xds/snapshot.js";
import { IMPLEMENTED_RETRY_ON } from "./route-action.js";

/**
 * Field paths (arrays as `[]`; map keys such as filter names written out, dots and all) the gateway
 * runs or that change nothing in it. A path covers everything under it.
 */
const HPO = `typedExtensionProtocolOptions.${HTTP_PROTOCOL_OPTIONS_KEY}`;
const HANDLED: Record<
  "Listener" | "RouteConfiguration" | "Cluster" | "ClusterLoadAssignment",
  readonly string[]
> = {
  Listener: [
    "@type",
    "name",
    "address",
    "trafficDirection",
    "maxConnectionsToAcceptPerSocketEvent",
    "filterChains[].transportSocketConnectTimeout",
    "filterChains[].filters[].name",
    "filterChains[].filters[].typedConfig.@type",
    "filterChains[].filters[].typedConfig.statPrefix",
    "filterChains[].filters[].typedConfig.rds",
    // Filters without per-route configuration pass requests through unchanged (fault, CORS, gRPC
    // stats, Istio's ALPN override for mTLS upstreams); the stateful-session filter and the router run.
    "filterChains[].filters[].typedConfig.httpFilters",
    "filterChains[].filters[].typedConfig.useRemoteAddress",
    "filterChains[].filters[].typedConfig.forwardClientCertDetails",
    "filterChains[].filters[].typedConfig.setCurrentClientCertDetails",
    "filterChains[].filters[].typedConfig.serverName",
    "filterChains[].filters[].typedConfig.normalizePath",
    "filterChains[].filters[].typedConfig.pathWithEscapedSlashesAction",
    "filterChains[].filters[].typedConfig.upgradeConfigs",
    "filterChains[].filters[].typedConfig.httpProtocolOptions",
  ],
  RouteConfiguration: [
    "name",
    "validateClusters",
    "ignorePortInHostMatching",
    "maxDirectResponseBodySizeBytes",
    "virtualHosts[].name",
    "virtualHosts[].domains",
    "virtualHosts[].includeRequestAttemptCount",
    "virtualHosts[].routes[].name",
    "virtualHosts[].routes[].match",
    "virtualHosts[].routes[].metadata",
    "virtualHosts[].routes[].decorator",
    "virtualHosts[].routes[].typedPerFilterConfig.envoy.filters.http.stateful_session",
    "virtualHosts[].routes[].route.cluster",
    "virtualHosts[].routes[].route.weightedClusters.clusters[].name",
    "virtualHosts[].routes[].route.weightedClusters.clusters[].weight",
    "virtualHosts[].routes[].route.timeout",
    // It bounds grpc-timeout, and gRPC needs HTTP/2, which the gateway's HTTP/1.1 listener never gets.
    "virtualHosts[].routes[].route.maxGrpcTimeout",
    "virtualHosts[].routes[].route.hashPolicy",
    "virtualHosts[].routes[].route.retryPolicy.retryOn",
    "virtualHosts[].routes[].route.retryPolicy.numRetries",
    "virtualHosts[].routes[].route.retryPolicy.retryHostPredicate[].name",
    "virtualHosts[].routes[].route.retryPolicy.retryHostPredicate[].typedConfig.@type",
    "virtualHosts[].routes[].route.retryPolicy.hostSelectionRetryMaxAttempts",
    "virtualHosts[].routes[].route.retryPolicy.retriableStatusCodes",
    "virtualHosts[].routes[].route.retryPolicy.retryBackOff.baseInterval",
  ],
  Cluster: [
    "@type",
    "name",
    "altStatName",
    "type",
    "edsClusterConfig",
    "connectTimeout",
    "lbPolicy",
    "circuitBreakers.thresholds[].maxConnections",
    "circuitBreakers.thresholds[].maxPendingRequests",
    "circuitBreakers.thresholds[].maxRequests",
    "circuitBreakers.thresholds[].maxRetries",
    "circuitBreakers.thresholds[].trackRemaining",
    "outlierDetection.consecutive5xx",
    "outlierDetection.interval",
    "outlierDetection.baseEjectionTime",
    "outlierDetection.maxEjectionTime",
    "outlierDetection.maxEjectionPercent",
    "outlierDetection.enforcingConsecutive5xx",
    "outlierDetection.consecutiveGatewayFailure",
    "outlierDetection.enforcingConsecutiveGatewayFailure",
    // Local-origin counting applies only with split_external_local_origin_errors, listed when set.
    "outlierDetection.consecutiveLocalOriginFailure",
    "outlierDetection.enforcingConsecutiveLocalOriginFailure",
    "commonLbConfig.healthyPanicThreshold",
    "commonLbConfig.overrideHostStatus",
    "ringHashLbConfig.minimumRingSize",
    "ringHashLbConfig.maximumRingSize",
    "maglevLbConfig.tableSize",
    `${HPO}.@type`,
    `${HPO}.commonHttpProtocolOptions.idleTimeout`,
    `${HPO}.commonHttpProtocolOptions.maxRequestsPerConnection`,
    `${HPO}.explicitHttpConfig.httpProtocolOptions`,
    // Downstream is HTTP/1.1, so "the downstream's protocol" is HTTP/1.1 upstream too.
    `${HPO}.useDownstreamProtocolConfig`,
    "metadata",
    // Istio's peer-metadata exchange only speaks over mTLS, which local endpoints do not use.
    "filters",
  ],
  ClusterLoadAssignment: [
    "@type",
    "clusterName",
    "endpoints[].lbEndpoints[].endpoint.address",
    "endpoints[].lbEndpoints[].healthStatus",
    "endpoints[].lbEndpoints[].loadBalancingWeight",
    "endpoints[].lbEndpoints[].metadata",
    // Without locality-weighted balancing every priority-0 locality is one host set.
    "endpoints[].locality",
    "endpoints[].loadBalancingWeight",
  ],
};

/** Fields whose value decides: the gateway runs only these values. */
const VALUE_LIMITS: readonly {
  readonly kind: keyof typeof HANDLED;
  readonly path: string;
  readonly ok: (value: unknown) => boolean;
}[] = [
  { kind: "Listener", path: "filterChains[].filters[].typedConfig.streamIdleTimeout", ok: (v) => v === "0s" },
  { kind: "Cluster", path: "outlierDetection.enforcingSuccessRate", ok: (v) => v === 0 },
  // The gateway answers `Expect: 100-continue` itself (Envoy's default) rather than passing on the pod's 100.
  {
    kind: "Listener",
    path: "filterChains[].filters[].typedConfig.proxy100Continue",
    ok: (v) => v === false,
  },
  { kind: "Cluster", path: "outlierDetection.splitExternalLocalOriginErrors", ok: (v) => v === false },
  { kind: "Cluster", path: "outlierDetection.enforcingLocalOriginSuccessRate", ok: (v) => v === 0 },
  { kind: "Cluster", path: "outlierDetection.enforcingFailurePercentage", ok: (v) => v === 0 },
  { kind: "ClusterLoadAssignment", path: "endpoints[].priority", ok: (v) => v === 0 },
];

function leaves(value: unknown, path: string, out: [string, unknown][]): void {
  if (Array.isArray(value)) {
    for (const item of value) leaves(item, `${path}[]`, out);
    return;
  }
  if (value !== null && typeof value === "object" && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value))
      leaves(child, path === "" ? key : `${path}.${key}`, out);
    return;
  }
  out.push([path, value]);
}

function covered(path: string, handled: readonly string[]): boolean {
  return handled.some((h) => path === h || path.startsWith(`${h}.`) || path.startsWith(`${h}[]`));
}

function resourceFields(kind: keyof typeof HANDLED, name: string, resource: unknown, out: Set<string>): void {
  const all: [string, unknown][] = [];
  leaves(resource, "", all);
  for (const [path, value] of all) {
    const limit = VALUE_LIMITS.find((l) => l.kind === kind && path === l.path);
    if (limit) {
      if (!limit.ok(value)) out.add(`${kind} ${name}: ${path} = ${JSON.stringify(value)}`);
      continue;
    }
    if (!covered(path, HANDLED[kind])) out.add(`${kind} ${name}: ${path}`);
  }
}

/** One line per field the gateway does not act on: `<kind> <name>: <path>`. */
export function unimplementedFields(snapshot: XdsSnapshot): string[] {
  const out = new Set<string>();
  for (const l of snapshot.listeners) resourceFields("Listener", l.name, l, out);
  for (const r of snapshot.routes) {
    resourceFields("RouteConfiguration", r.name, r, out);
    for (const vh of r.virtualHosts)
      for (const route of vh.routes ?? [])
        for (const on of (route.route?.retryPolicy?.retryOn ?? "").split(",")) {
          const condition = on.trim();
          if (condition !== "" && !IMPLEMENTED_RETRY_ON.has(condition))
            out.add(
              `RouteConfiguration ${r.name}: virtualHosts[].routes[].route.retryPolicy.retryOn ${condition}`,
            );
        }
  }
  for (const c of snapshot.clusters) {
    resourceFields("Cluster", c.name, c, out);
    // Unset, Envoy enforces success-rate ejection at 100 %; istiod always sets it to 0.
    if (c.outlierDetection && c.outlierDetection.enforcingSuccessRate === undefined)
      out.add(`Cluster ${c.name}: outlierDetection.enforcingSuccessRate unset (Envoy's 100)`);
  }
  for (const e of snapshot.endpoints) resourceFields("ClusterLoadAssignment", e.clusterName, e, out);
  return [...out];
}
