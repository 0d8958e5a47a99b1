/**
 * The Envoy v3 xDS resources the translation emits, in proto3 JSON form as Envoy's /config_dump prints
 * them: lowerCamelCase field names, Durations as "10s", wrapper types as bare values, 64-bit integers
 * as decimal strings, enums by name, Any as an object carrying "@type". Only the fields istiod sets for
 * the gateway are typed here; a field left unset is absent (proto3 JSON omits defaults).
 */

export const CLUSTER_TYPE_URL = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
export const CLUSTER_LOAD_ASSIGNMENT_TYPE_URL =
  "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
export const HTTP_PROTOCOL_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
export const HTTP_PROTOCOL_OPTIONS_TYPE_URL = `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS_KEY}`;

/** google.protobuf.Duration in JSON: seconds with an "s" suffix. */
export type Duration = `${string}s`;

/** google.protobuf.Struct / Value in JSON. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonStruct = { [key: string]: JsonValue };

/** envoy.config.core.v3.Metadata. */
export interface EnvoyMetadata {
  filterMetadata: Record<string, JsonStruct>;
}

export type LbPolicy =
  | "ROUND_ROBIN"
  | "LEAST_REQUEST"
  | "RING_HASH"
  | "RANDOM"
  | "MAGLEV"
  | "CLUSTER_PROVIDED";

export type HealthStatus = "UNKNOWN" | "HEALTHY" | "UNHEALTHY" | "DRAINING" | "TIMEOUT" | "DEGRADED";

/** envoy.config.cluster.v3.CircuitBreakers.Thresholds (uint32 wrappers). */
export interface CircuitBreakerThresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
  trackRemaining?: boolean;
}

/** envoy.config.cluster.v3.OutlierDetection. */
export interface EnvoyOutlierDetection {
  consecutive5xx?: number;
  interval?: Duration;
  baseEjectionTime?: Duration;
  maxEjectionPercent?: number;
  enforcingConsecutive5xx?: number;
  enforcingSuccessRate?: number;
  consecutiveGatewayFailure?: number;
  enforcingConsecutiveGatewayFailure?: number;
  splitExternalLocalOriginErrors?: boolean;
  consecutiveLocalOriginFailure?: number;
  enforcingConsecutiveLocalOriginFailure?: number;
  enforcingLocalOriginSuccessRate?: number;
}

/** envoy.config.cluster.v3.Cluster.CommonLbConfig. */
export interface CommonLbConfig {
  healthyPanicThreshold?: { value?: number };
  localityWeightedLbConfig?: Record<string, never>;
  overrideHostStatus?: { statuses: HealthStatus[] };
}

/** envoy.config.core.v3.HttpProtocolOptions (the common part of HttpProtocolOptions). */
export interface CommonHttpProtocolOptions {
  idleTimeout?: Duration;
  maxConnectionDuration?: Duration;
  maxRequestsPerConnection?: number;
}

/** envoy.extensions.upstreams.http.v3.HttpProtocolOptions, packed in an Any. */
export interface HttpProtocolOptionsAny {
  "@type": typeof HTTP_PROTOCOL_OPTIONS_TYPE_URL;
  commonHttpProtocolOptions?: CommonHttpProtocolOptions;
  explicitHttpConfig?: {
    httpProtocolOptions?: Record<string, never>;
    http2ProtocolOptions?: {
      maxConcurrentStreams?: number;
      connectionKeepalive?: { interval?: Duration; timeout?: Duration };
    };
  };
  useDownstreamProtocolConfig?: {
    httpProtocolOptions: Record<string, never>;
    http2ProtocolOptions: Record<string, never>;
  };
}

/** envoy.config.cluster.v3.Filter carrying a TypedStruct (Istio's own filters are not Envoy protos). */
export interface ClusterFilter {
  name: string;
  typedConfig: {
    "@type": "type.googleapis.com/udpa.type.v1.TypedStruct";
    typeUrl: string;
    value: JsonStruct;
  };
}

/** envoy.config.cluster.v3.Cluster, as istiod builds it for the gateway. */
export interface EnvoyCluster {
  "@type": typeof CLUSTER_TYPE_URL;
  name: string;
  altStatName: string;
  type: "EDS" | "STATIC" | "STRICT_DNS" | "LOGICAL_DNS" | "ORIGINAL_DST";
  edsClusterConfig?: {
    edsConfig: { ads: Record<string, never>; initialFetchTimeout: Duration; resourceApiVersion: "V3" };
    serviceName: string;
  };
  connectTimeout: Duration;
  lbPolicy?: LbPolicy;
  circuitBreakers?: { thresholds: CircuitBreakerThresholds[] };
  outlierDetection?: EnvoyOutlierDetection;
  commonLbConfig?: CommonLbConfig;
  ringHashLbConfig?: { minimumRingSize?: string };
  maglevLbConfig?: { tableSize?: string };
  leastRequestLbConfig?: { slowStartConfig: SlowStartConfig };
  roundRobinLbConfig?: { slowStartConfig: SlowStartConfig };
  upstreamConnectionOptions?: {
    tcpKeepalive: { keepaliveProbes?: number; keepaliveTime?: number; keepaliveInterval?: number };
  };
  typedExtensionProtocolOptions?: Record<typeof HTTP_PROTOCOL_OPTIONS_KEY, HttpProtocolOptionsAny>;
  metadata?: EnvoyMetadata;
  filters?: ClusterFilter[];
}

/** envoy.config.cluster.v3.Cluster.SlowStartConfig. */
export interface SlowStartConfig {
  slowStartWindow?: Duration;
  aggression?: { defaultValue: number; runtimeKey: string };
  minWeightPercent?: { value: number };
}

/** envoy.config.core.v3.Locality. */
export interface EnvoyLocality {
  region?: string;
  zone?: string;
  subZone?: string;
}

/** envoy.config.endpoint.v3.LbEndpoint. */
export interface EnvoyLbEndpoint {
  endpoint: { address: { socketAddress: { address: string; portValue: number } } };
  healthStatus: HealthStatus;
  metadata?: EnvoyMetadata;
  loadBalancingWeight: number;
}

/** envoy.config.endpoint.v3.LocalityLbEndpoints. */
export interface EnvoyLocalityLbEndpoints {
  locality?: EnvoyLocality;
  lbEndpoints: EnvoyLbEndpoint[];
  loadBalancingWeight: number;
}

/** envoy.config.endpoint.v3.ClusterLoadAssignment. */
export interface EnvoyClusterLoadAssignment {
  "@type": typeof CLUSTER_LOAD_ASSIGNMENT_TYPE_URL;
  clusterName: string;
  endpoints: EnvoyLocalityLbEndpoints[];
}
