/**
 * Envoy's admin `/clusters` endpoint, text and `?format=json` (envoy.admin.v3.Clusters), as
 * source/server/admin/clusters_handler.cc prints them (checked against
 * test/server/admin/clusters_handler_test.cc, ClustersJsonAndText).
 *
 * What the view cannot carry is printed as Envoy prints it for a gateway in its usual state:
 * - no active health checking, so no `/failed_active_hc`-style flags;
 * - success rates are -1 (Envoy's "no value"): success-rate ejection needs
 *   `success_rate_minimum_hosts` (5) hosts with `success_rate_request_volume` (100) requests each in
 *   an interval, which the outlier detector Istio configures never reaches with a handful of pods;
 * - every cluster came from CDS (`added_via_api::true`), priority 0, not a canary.
 * Envoy keeps clusters in a hash map, so its order is arbitrary; the views' order is kept.
 */
import type {
  CircuitBreakerThresholds,
  EnvoyCluster,
  EnvoyLocality,
  HealthStatus,
} from "../../xds/cluster-types.js";
import type { ClusterStatusView, HostStatusView } from "./views.js";

/**
 * ClusterInfoImpl::ResourceManagers::load (source/common/upstream/upstream_impl.cc): what a priority
 * gets when the cluster sets no threshold for it, e.g. "high" under Istio's DestinationRule, which
 * only ever writes the default-priority threshold.
 */
export const DEFAULT_CIRCUIT_BREAKER_LIMITS = {
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
} as const;

type Priority = "DEFAULT" | "HIGH";
type Limits = { readonly [K in keyof typeof DEFAULT_CIRCUIT_BREAKER_LIMITS]: number };
/** A threshold as Cluster JSON may hold it: `priority` unset means DEFAULT (proto3 default). */
type Thresholds = Partial<CircuitBreakerThresholds> & { readonly priority?: Priority };

/** Outlier success rates and averages before Envoy has computed any. */
const NO_SUCCESS_RATE = -1;

/** Envoy's observabilityName(): alt_stat_name when set, else the name. */
export function observabilityName(cluster: Pick<EnvoyCluster, "name" | "altStatName">): string {
  return cluster.altStatName ? cluster.altStatName : cluster.name;
}

/** The limits a priority runs with: the first threshold for that priority, field by field. */
export function circuitBreakerLimits(cluster: EnvoyCluster, priority: Priority): Limits {
  const thresholds: readonly Thresholds[] = cluster.circuitBreakers?.thresholds ?? [];
  const t = thresholds.find((x) => (x.priority ?? "DEFAULT") === priority);
  const d = DEFAULT_CIRCUIT_BREAKER_LIMITS;
  return {
    maxConnections: t?.maxConnections ?? d.maxConnections,
    maxPendingRequests: t?.maxPendingRequests ?? d.maxPendingRequests,
    maxRequests: t?.maxRequests ?? d.maxRequests,
    maxRetries: t?.maxRetries ?? d.maxRetries,
  };
}

function edsServiceName(cluster: EnvoyCluster): string {
  return cluster.edsClusterConfig?.serviceName ?? "";
}

/** Address::Ipv4Instance / Ipv6Instance asString(): `1.2.3.4:80`, `[::1]:80`. */
export function hostAddress(host: Pick<HostStatusView, "address" | "port">): string {
  return host.address.includes(":") ? `[${host.address}]:${host.port}` : `${host.address}:${host.port}`;
}

/**
 * The host health flags EDS and outlier detection set (HostImplBase::setEdsHealthFlag), in the order
 * of HEALTH_FLAG_ENUM_VALUES. DRAINING sets EDS_STATUS_DRAINING (runtime guard
 * exclude_host_in_eds_status_draining, on by default); UNKNOWN and HEALTHY set nothing.
 */
function healthFlags(host: HostStatusView): string[] {
  const flags: string[] = [];
  if (host.failedOutlierCheck) flags.push("failed_outlier_check");
  if (host.edsHealthStatus === "UNHEALTHY" || host.edsHealthStatus === "TIMEOUT")
    flags.push("failed_eds_health");
  if (host.edsHealthStatus === "DEGRADED") flags.push("degraded_eds_health");
  if (host.edsHealthStatus === "DRAINING") flags.push("eds_status_draining");
  return flags;
}

/** HostUtility::healthFlagsToString: `/flag/flag`, or `healthy` when none is set. */
export function healthFlagsText(host: HostStatusView): string {
  const flags = healthFlags(host);
  return flags.length === 0 ? "healthy" : flags.map((f) => `/${f}`).join("");
}

/** The EDS status /clusters?format=json reports, derived back from the flags as setHealthFlag does. */
function reportedEdsStatus(status: HealthStatus): HealthStatus {
  if (status === "UNHEALTHY" || status === "TIMEOUT") return "UNHEALTHY";
  if (status === "DEGRADED" || status === "DRAINING") return status;
  return "HEALTHY";
}

/** host->counters() then host->gauges(), each in ALL_HOST_STATS order (host_description.h). */
function hostStats(host: HostStatusView): Array<[string, number, "COUNTER" | "GAUGE"]> {
  const c = host.counters;
  const g = host.gauges;
  return [
    ["cx_connect_fail", c.cx_connect_fail, "COUNTER"],
    ["cx_total", c.cx_total, "COUNTER"],
    ["rq_error", c.rq_error, "COUNTER"],
    ["rq_success", c.rq_success, "COUNTER"],
    ["rq_timeout", c.rq_timeout, "COUNTER"],
    ["rq_total", c.rq_total, "COUNTER"],
    ["cx_active", g.cx_active, "GAUGE"],
    ["rq_active", g.rq_active, "GAUGE"],
  ];
}

function limitsText(cluster: string, label: "default" | "high", limits: Limits): string[] {
  return [
    `${cluster}::${label}_priority::max_connections::${limits.maxConnections}`,
    `${cluster}::${label}_priority::max_pending_requests::${limits.maxPendingRequests}`,
    `${cluster}::${label}_priority::max_requests::${limits.maxRequests}`,
    `${cluster}::${label}_priority::max_retries::${limits.maxRetries}`,
  ];
}

function hostText(cluster: string, host: HostStatusView): string[] {
  const at = `${cluster}::${hostAddress(host)}`;
  // The text form merges counters and gauges into one map sorted by name.
  const stats = hostStats(host).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    ...stats.map(([name, value]) => `${at}::${name}::${value}`),
    `${at}::hostname::`,
    `${at}::health_flags::${healthFlagsText(host)}`,
    `${at}::weight::${host.weight}`,
    `${at}::region::${host.locality.region ?? ""}`,
    `${at}::zone::${host.locality.zone ?? ""}`,
    `${at}::sub_zone::${host.locality.subZone ?? ""}`,
    `${at}::canary::false`,
    `${at}::priority::0`,
    `${at}::success_rate::${NO_SUCCESS_RATE}`,
    `${at}::local_origin_success_rate::${NO_SUCCESS_RATE}`,
  ];
}

/** `/clusters` as text: one `name::key::value` line each, every line ending in a newline. */
export function clustersText(views: readonly ClusterStatusView[]): string {
  const lines: string[] = [];
  for (const { cluster, hosts } of views) {
    const name = cluster.name;
    lines.push(`${name}::observability_name::${observabilityName(cluster)}`);
    // addOutlierInfo prints only when the cluster has an outlier detector.
    if (cluster.outlierDetection) {
      lines.push(
        `${name}::outlier::success_rate_average::${NO_SUCCESS_RATE}`,
        `${name}::outlier::success_rate_ejection_threshold::${NO_SUCCESS_RATE}`,
        `${name}::outlier::local_origin_success_rate_average::${NO_SUCCESS_RATE}`,
        `${name}::outlier::local_origin_success_rate_ejection_threshold::${NO_SUCCESS_RATE}`,
      );
    }
    lines.push(...limitsText(name, "default", circuitBreakerLimits(cluster, "DEFAULT")));
    lines.push(...limitsText(name, "high", circuitBreakerLimits(cluster, "HIGH")));
    lines.push(`${name}::added_via_api::true`);
    const eds = edsServiceName(cluster);
    if (eds !== "") lines.push(`${name}::eds_service_name::${eds}`);
    for (const host of hosts) lines.push(...hostText(name, host));
  }
  return lines.map((l) => `${l}\n`).join("");
}

/** envoy.admin.v3.SimpleMetric; `type` COUNTER and `value` 0 are proto3 defaults, so left out. */
export interface SimpleMetricJson {
  type?: "GAUGE";
  value?: string;
  name: string;
}

export interface HostStatusJson {
  address: { socketAddress: { address: string; portValue: number } };
  stats: SimpleMetricJson[];
  healthStatus: { failedOutlierCheck?: true; edsHealthStatus: HealthStatus };
  weight?: number;
  locality: EnvoyLocality;
}

export interface ThresholdsJson {
  priority?: "HIGH";
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
}

export interface ClusterStatusJson {
  name: string;
  addedViaApi: true;
  hostStatuses?: HostStatusJson[];
  circuitBreakers: { thresholds: ThresholdsJson[] };
  observabilityName: string;
  edsServiceName?: string;
}

/** envoy.admin.v3.Clusters; an empty list is a proto3 default and prints as `{}`. */
export interface ClustersJson {
  clusterStatuses?: ClusterStatusJson[];
}

function hostJson(host: HostStatusView): HostStatusJson {
  const stats = hostStats(host).map(
    ([name, value, type]): SimpleMetricJson => ({
      ...(type === "GAUGE" ? { type } : {}),
      ...(value !== 0 ? { value: String(value) } : {}),
      name,
    }),
  );
  const locality: EnvoyLocality = {
    ...(host.locality.region ? { region: host.locality.region } : {}),
    ...(host.locality.zone ? { zone: host.locality.zone } : {}),
    ...(host.locality.subZone ? { subZone: host.locality.subZone } : {}),
  };
  return {
    // TCP is the Protocol enum's zero value, hence absent.
    address: { socketAddress: { address: host.address, portValue: host.port } },
    stats,
    healthStatus: {
      ...(host.failedOutlierCheck ? { failedOutlierCheck: true as const } : {}),
      edsHealthStatus: reportedEdsStatus(host.edsHealthStatus),
    },
    ...(host.weight !== 0 ? { weight: host.weight } : {}),
    // Envoy always sets the locality message, so an empty one still prints as {}.
    locality,
  };
}

function thresholdsJson(cluster: EnvoyCluster, priority: Priority): ThresholdsJson {
  return { ...(priority === "HIGH" ? { priority } : {}), ...circuitBreakerLimits(cluster, priority) };
}

/**
 * `/clusters?format=json` as the object Envoy serialises (fields in field-number order, proto3
 * defaults left out). Field names are the proto3 JSON (lowerCamelCase) ones; Envoy's own printer
 * keeps the .proto names (`cluster_statuses`), which any proto3 JSON parser reads as the same message.
 */
export function clustersJson(views: readonly ClusterStatusView[]): ClustersJson {
  if (views.length === 0) return {};
  return {
    clusterStatuses: views.map(({ cluster, hosts }): ClusterStatusJson => {
      const eds = edsServiceName(cluster);
      return {
        name: cluster.name,
        addedViaApi: true,
        ...(hosts.length > 0 ? { hostStatuses: hosts.map(hostJson) } : {}),
        circuitBreakers: {
          thresholds: [thresholdsJson(cluster, "DEFAULT"), thresholdsJson(cluster, "HIGH")],
        },
        observabilityName: observabilityName(cluster),
        ...(eds !== "" ? { edsServiceName: eds } : {}),
      };
    }),
  };
}
