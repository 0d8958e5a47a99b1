/**
 * What the admin endpoints read from the running gateway: the snapshot it runs with each resource's
 * version and update time, and the live books of its clusters, hosts and connection manager. Plain
 * data, so every admin format is a pure function of it and can be tested without a gateway.
 */
import type { EnvoyCluster, EnvoyLocality, HealthStatus } from "../../xds/cluster-types.js";
import type { XdsSnapshot } from "../../xds/snapshot.js";

/** When a resource last changed: the push's version_info and the time Envoy took it. */
export interface ResourceUpdate {
  readonly versionInfo: string;
  /** RFC 3339 with fractional seconds, as Envoy prints Timestamps ("2026-12-03T19:41:43.123Z"). */
  readonly lastUpdated: string;
}

/** The snapshot in force, each resource keyed by name (clusters and endpoints by cluster name). */
export interface AppliedSnapshot {
  readonly snapshot: XdsSnapshot;
  readonly listeners: ReadonlyMap<string, ResourceUpdate>;
  readonly routes: ReadonlyMap<string, ResourceUpdate>;
  readonly clusters: ReadonlyMap<string, ResourceUpdate>;
  readonly endpoints: ReadonlyMap<string, ResourceUpdate>;
  /** The newest version_info of any CDS / LDS push (Envoy's top-level version_info of each dump). */
  readonly version: string;
}

/** The proxy itself, as its bootstrap and /server_info describe it. */
export interface ProxyIdentity {
  /** Envoy node id, `router~<ip>~<pod>.<namespace>~<namespace>.svc.<domain>` for an Istio gateway. */
  readonly nodeId: string;
  /** Envoy node cluster (`istio-ingressgateway.istio-system` for Istio's gateway). */
  readonly nodeCluster: string;
  /** Node metadata as pilot-agent sets it (ISTIO_VERSION, NAMESPACE, NAME, LABELS, CLUSTER_ID, ...). */
  readonly nodeMetadata: Readonly<Record<string, unknown>>;
  /** The admin listener's address. */
  readonly adminAddress: { readonly address: string; readonly portValue: number };
  /** The Envoy release the emulated Istio's proxy is built on, e.g. "1.36.2". */
  readonly envoyVersion: string;
  /** The Istio release, e.g. "1.30.0". */
  readonly istioVersion: string;
  /** When the proxy started (epoch ms), for uptime and the bootstrap's last_updated. */
  readonly startedAt: number;
}

/** One host of a cluster with its books, as Envoy's /clusters reports a host. */
export interface HostStatusView {
  readonly address: string;
  readonly port: number;
  readonly locality: EnvoyLocality;
  readonly weight: number;
  /** The health EDS gave the host. */
  readonly edsHealthStatus: HealthStatus;
  /** Ejected by outlier detection (`/failed_outlier_check`). */
  readonly failedOutlierCheck: boolean;
  readonly counters: {
    readonly cx_connect_fail: number;
    readonly cx_total: number;
    readonly rq_error: number;
    readonly rq_success: number;
    readonly rq_timeout: number;
    readonly rq_total: number;
  };
  readonly gauges: { readonly cx_active: number; readonly rq_active: number };
}

/** One cluster's live state. */
export interface ClusterStatusView {
  readonly cluster: EnvoyCluster;
  readonly hosts: readonly HostStatusView[];
}

/**
 * One statistic under Envoy's own name, e.g. `cluster.outbound|80||svc.upstream_rq_total` or
 * `http.outbound_0.0.0.0_8080.downstream_rq_2xx`.
 */
export interface StatView {
  readonly name: string;
  readonly type: "counter" | "gauge";
  readonly value: number;
}
