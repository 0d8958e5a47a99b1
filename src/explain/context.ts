/**
 * What `explain` knows about one request's way through a proxy's configuration, whatever the dump
 * came from (a real istio-proxy, Envoy's admin, the local mesh): the resources on the path, each with
 * the JSON path where the dump holds it, and the proxy's own facts. Diagnoses and placement read this
 * and nothing else.
 */
import type {
  DumpCluster,
  DumpClusterLoadAssignment,
  DumpListener,
  DumpRouteConfiguration,
  JsonObject,
} from "../proxy-config/config-dump.js";
import type { EnvoyLocality, HealthStatus } from "../xds/cluster-types.js";

/** A value and where the dump holds it, e.g. `configs[1].dynamicActiveClusters[3].cluster`. */
export interface Located<T> {
  readonly value: T;
  readonly path: string;
}

export interface ProxyFacts {
  /** From the bootstrap node metadata ISTIO_VERSION (or /server_info), e.g. "1.30.0"; absent when unknown. */
  readonly istioVersion?: string;
  /** The Envoy release from the node's user agent build version, e.g. "1.38.4"; absent when unknown. */
  readonly envoyVersion?: string;
  /** From the node id's first field: `router` (a gateway), `sidecar`, or a waypoint (ambient). */
  readonly kind: "gateway" | "sidecar" | "waypoint" | "unknown";
  /** How many replicas serve the same traffic (from `--replicas`); undefined when not given. */
  readonly replicas?: number;
}

/** One host of a cluster as the dump shows it, with health from EDS and, when given, /clusters. */
export interface HostState {
  /** ip:port ([ip]:port for IPv6). */
  readonly address: string;
  readonly weight: number;
  readonly health: HealthStatus;
  /** Ejected by outlier detection, known only from /clusters?format=json. */
  readonly failedOutlierCheck: boolean;
  readonly locality: EnvoyLocality;
  readonly priority: number;
  /** Where the dump holds this host's LbEndpoint. */
  readonly path: string;
}

/** A cluster a route sends to, with its weight among the route's clusters. */
export interface RoutedCluster {
  readonly name: string;
  /** The weighted_clusters weight, or 1 for a single cluster. */
  readonly weight: number;
  /** Absent when the dump has no such cluster (a route to nothing: Envoy answers 503 NC). */
  readonly cluster?: Located<DumpCluster>;
  readonly assignment?: Located<DumpClusterLoadAssignment>;
  readonly hosts: readonly HostState[];
}

/** The request `explain` follows (cookies are also in `headers`, as one Cookie header). */
export interface ExplainRequest {
  readonly authority: string;
  readonly path: string;
  readonly method: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly sourceIp?: string;
}

/** The path of one request through one listener, as far as the configuration takes it. */
export interface RouteContext {
  readonly proxy: ProxyFacts;
  readonly request: ExplainRequest;
  readonly listener: Located<DumpListener>;
  /** The HTTP filters of the listener's connection manager, by name; empty for a TCP proxy. */
  readonly httpFilters: readonly string[];
  /** Set when the listener proxies TCP (no HTTP connection manager): nothing HTTP applies. */
  readonly tcpProxy?: Located<JsonObject>;
  readonly routeConfig?: Located<DumpRouteConfiguration>;
  readonly virtualHost?: Located<JsonObject>;
  /** The matched route, or undefined when nothing matched (Envoy's 404 NR). */
  readonly route?: Located<JsonObject>;
  readonly clusters: readonly RoutedCluster[];
  /** Cookie names the application itself sets (`--app-cookie`), to catch a hash cookie of the same name. */
  readonly appCookies: readonly string[];
}

export type Severity = "breaks" | "caveat" | "note";

/** One reason, with the dump's evidence, the Istio YAML that fixes it and where the behaviour is documented. */
export interface Finding {
  /** Stable id, e.g. `no-hash-policy`, documented in docs/explain.md. */
  readonly id: string;
  readonly severity: Severity;
  /** One sentence, the reason. */
  readonly message: string;
  readonly evidence: readonly { readonly path: string; readonly value: unknown }[];
  /** Istio YAML (a DestinationRule or VirtualService fragment) that removes the cause; absent when none exists. */
  readonly fix?: string;
  /** An upstream issue, PR or doc URL behind the statement. */
  readonly source: string;
}

export type Verdict = "sticky" | "not-sticky" | "sticky-with-caveats";
