/**
 * An Envoy Cluster as the gateway runs it, read from CDS once per push, with Envoy's defaults for
 * every field left unset (envoy: api/envoy/config/cluster/v3/cluster.proto, outlier_detection.proto,
 * circuit_breaker.proto; source/common/upstream/upstream_impl.cc): lb_policy ROUND_ROBIN (the enum's
 * zero, which proto3 JSON omits), connect_timeout 5 s, ring 1024..8M, Maglev table 65537, circuit
 * breakers 1024/1024/1024/3, healthy_panic_threshold 50 %, upstream idle timeout 1 h.
 */
import { SessionAffinityError } from "../errors.js";
import { validateTableSize } from "../lb/maglev.js";
import { ENVOY_OUTLIER_DEFAULTS, type OutlierDetectionConfig } from "../lb/outlier-detector.js";
import type { LoadBalancerPolicy } from "../lb/registry.js";
import { validateRingSizes } from "../lb/ring-hash.js";
import {
  type EnvoyCluster,
  type EnvoyOutlierDetection,
  type HealthStatus,
  HTTP_PROTOCOL_OPTIONS_KEY,
  type LbPolicy,
} from "../xds/cluster-types.js";
import { durationMs } from "../xds/duration.js";
import type { CircuitBreakerLimits } from "./upstream/circuit-breakers.js";

/** Envoy's own thresholds for a priority the cluster does not configure. */
export const ENVOY_DEFAULT_LIMITS: CircuitBreakerLimits = {
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
};

export interface ClusterConfig {
  readonly name: string;
  /** The Kubernetes Service behind the cluster, from Istio's cluster metadata; absent for others. */
  readonly service?: { readonly host: string; readonly name: string; readonly namespace: string };
  /** The Istio config (DestinationRule) the cluster came from, from its metadata. */
  readonly istioConfig?: string;
  readonly lbPolicy: LoadBalancerPolicy;
  readonly minRingSize?: number;
  readonly maxRingSize?: number;
  readonly tableSize?: number;
  readonly connectTimeoutMs: number;
  /** Upstream connection idle timeout (common_http_protocol_options.idle_timeout). */
  readonly idleTimeoutMs: number;
  /** max_requests_per_connection when set (1 turns keep-alive off). */
  readonly maxRequestsPerConnection?: number;
  readonly circuitBreakers: CircuitBreakerLimits;
  readonly outlierDetection?: OutlierDetectionConfig;
  /** healthy_panic_threshold (percent): below that share of healthy hosts every host is used. */
  readonly panicThresholdPercent: number;
  /** common_lb_config.override_host_status: the host states a stateful session may still pick. */
  readonly overrideHostStatuses: readonly HealthStatus[];
}

const LB_POLICIES: Partial<Record<LbPolicy, LoadBalancerPolicy>> = {
  ROUND_ROBIN: "round-robin",
  LEAST_REQUEST: "least-request",
  RING_HASH: "ring-hash",
  RANDOM: "random",
  MAGLEV: "maglev",
};

/** Envoy's default override_host_status when the cluster sets none: healthy or unknown hosts only. */
const DEFAULT_OVERRIDE_STATUSES: readonly HealthStatus[] = ["HEALTHY", "UNKNOWN"];

/**
 * Envoy's outlier detection with its defaults for every unset field. Success-rate and
 * failure-percentage detection are not run; a cluster that enforces them is listed as such.
 */
function outlierOf(o: EnvoyOutlierDetection, where: string): OutlierDetectionConfig {
  const d = ENVOY_OUTLIER_DEFAULTS;
  const ms = (v: string | undefined, fallback: number, field: string) =>
    v === undefined ? fallback : durationMs(v, `${where}.outlierDetection.${field}`);
  const extra = o as EnvoyOutlierDetection & { maxEjectionTime?: string };
  return {
    consecutive5xx: o.consecutive5xx ?? d.consecutive5xx,
    enforcingConsecutive5xx: o.enforcingConsecutive5xx ?? d.enforcingConsecutive5xx,
    consecutiveGatewayFailure: o.consecutiveGatewayFailure ?? d.consecutiveGatewayFailure,
    enforcingConsecutiveGatewayFailure:
      o.enforcingConsecutiveGatewayFailure ?? d.enforcingConsecutiveGatewayFailure,
    intervalMs: ms(o.interval, d.intervalMs, "interval"),
    baseEjectionTimeMs: ms(o.baseEjectionTime, d.baseEjectionTimeMs, "baseEjectionTime"),
    maxEjectionPercent: o.maxEjectionPercent ?? d.maxEjectionPercent,
    maxEjectionTimeMs: ms(extra.maxEjectionTime, d.maxEjectionTimeMs, "maxEjectionTime"),
  };
}

function integer(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new SessionAffinityError("ERR_XDS", `${field}: "${text}" is not a count`);
  return n;
}

/** Istio's cluster metadata: the Service (`istio.services`) and the config it came from (`istio.config`). */
function istioMetadata(c: EnvoyCluster): Pick<ClusterConfig, "service" | "istioConfig"> {
  const istio = c.metadata?.filterMetadata?.istio as
    | { services?: { host?: string; name?: string; namespace?: string }[]; config?: string }
    | undefined;
  const s = istio?.services?.[0];
  return {
    ...(s?.host && s.name && s.namespace
      ? { service: { host: s.host, name: s.name, namespace: s.namespace } }
      : {}),
    ...(typeof istio?.config === "string" ? { istioConfig: istio.config } : {}),
  };
}

export function clusterConfigOf(c: EnvoyCluster): ClusterConfig {
  const where = `Cluster ${c.name}`;
  const lbPolicy = LB_POLICIES[c.lbPolicy ?? "ROUND_ROBIN"];
  if (!lbPolicy)
    throw new SessionAffinityError("ERR_XDS", `${where}.lbPolicy: ${c.lbPolicy} is not implemented`);
  const defaults = (c.circuitBreakers?.thresholds ?? []).find(
    (t) =>
      (t as { priority?: string }).priority === undefined ||
      (t as { priority?: string }).priority === "DEFAULT",
  );
  const common = c.typedExtensionProtocolOptions?.[HTTP_PROTOCOL_OPTIONS_KEY]?.commonHttpProtocolOptions;
  const panic = c.commonLbConfig?.healthyPanicThreshold;
  const ring = c.ringHashLbConfig as { minimumRingSize?: string; maximumRingSize?: string } | undefined;
  const maxRequests = common?.maxRequestsPerConnection;
  const override = c.commonLbConfig?.overrideHostStatus?.statuses;
  // Checked here, as Envoy refuses such a cluster at once; the balancer itself is built on first use.
  const minRing = integer(ring?.minimumRingSize, `${where}.ringHashLbConfig.minimumRingSize`) ?? 1024;
  const maxRing = integer(ring?.maximumRingSize, `${where}.ringHashLbConfig.maximumRingSize`) ?? 8_388_608;
  const table = integer(c.maglevLbConfig?.tableSize, `${where}.maglevLbConfig.tableSize`) ?? 65_537;
  if (lbPolicy === "ring-hash") validateRingSizes(minRing, maxRing, `${where}.ringHashLbConfig`);
  if (lbPolicy === "maglev") validateTableSize(table, `${where}.maglevLbConfig.tableSize`);
  return {
    name: c.name,
    ...istioMetadata(c),
    lbPolicy,
    ...(lbPolicy === "ring-hash"
      ? {
          minRingSize: integer(ring?.minimumRingSize, `${where}.ringHashLbConfig.minimumRingSize`) ?? 1024,
          maxRingSize:
            integer(ring?.maximumRingSize, `${where}.ringHashLbConfig.maximumRingSize`) ?? 8_388_608,
        }
      : {}),
    ...(lbPolicy === "maglev"
      ? { tableSize: integer(c.maglevLbConfig?.tableSize, `${where}.maglevLbConfig.tableSize`) ?? 65_537 }
      : {}),
    connectTimeoutMs:
      c.connectTimeout === undefined ? 5000 : durationMs(c.connectTimeout, `${where}.connectTimeout`),
    idleTimeoutMs:
      common?.idleTimeout === undefined ? 3_600_000 : durationMs(common.idleTimeout, `${where}.idleTimeout`),
    ...(maxRequests === undefined || maxRequests === 0 ? {} : { maxRequestsPerConnection: maxRequests }),
    circuitBreakers: {
      maxConnections: defaults?.maxConnections ?? ENVOY_DEFAULT_LIMITS.maxConnections,
      maxPendingRequests: defaults?.maxPendingRequests ?? ENVOY_DEFAULT_LIMITS.maxPendingRequests,
      maxRequests: defaults?.maxRequests ?? ENVOY_DEFAULT_LIMITS.maxRequests,
      maxRetries: defaults?.maxRetries ?? ENVOY_DEFAULT_LIMITS.maxRetries,
    },
    ...(c.outlierDetection ? { outlierDetection: outlierOf(c.outlierDetection, where) } : {}),
    // A Percent message with no value is 0 %: panic mode off.
    panicThresholdPercent: panic === undefined ? 50 : (panic.value ?? 0),
    overrideHostStatuses: override ?? DEFAULT_OVERRIDE_STATUSES,
  };
}
