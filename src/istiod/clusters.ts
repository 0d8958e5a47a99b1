/**
 * CDS for the ingress gateway: the clusters istiod's ConfigGeneratorImpl.BuildClusters pushes to a
 * router proxy (pilot/pkg/networking/core/cluster.go, cluster_builder.go, cluster_traffic_policy.go),
 * with Istio's default MeshConfig and feature flags. Pure: reads only the input.
 *
 * Each cluster carries "@type" because a config dump prints every resource as an Any.
 */
import {
  CLUSTER_TYPE_URL,
  type Duration,
  type EnvoyCluster,
  type EnvoyOutlierDetection,
  HTTP_PROTOCOL_OPTIONS_KEY,
  HTTP_PROTOCOL_OPTIONS_TYPE_URL,
  type HttpProtocolOptionsAny,
  type JsonStruct,
} from "../xds/cluster-types.js";
import type { IstiodInput, KubeObject } from "./input.js";
import {
  destinationRuleFor,
  type Json,
  type MeshService,
  mergeSubsetPolicy,
  meshServices,
  num,
  portLevelPolicy,
  type ResolvedRule,
  type ServicePort,
  type TrafficPolicy,
  toDuration,
} from "./service-model.js";

const MAX_UINT32 = 2 ** 32 - 1;
/** MeshConfig's default connectTimeout (pkg/config/mesh DefaultMeshConfig). */
const MESH_CONNECT_TIMEOUT: Duration = "10s";

// ---- Traffic policy application (cluster_traffic_policy.go) ----

/** ClusterBuilder.applyConnectionPool (+ getDefaultCircuitBreakerThresholds, applyTCPKeepalive). */
function applyConnectionPool(c: EnvoyCluster, pool: Json, opts: HttpOptions): void {
  const http = pool.http as Json | undefined;
  const tcp = pool.tcp as Json | undefined;
  // Istio raises Envoy's small defaults to the uint32 maximum; trackRemaining stays off because
  // DISABLE_TRACK_REMAINING_CB_METRICS defaults to true.
  const t = {
    maxConnections: MAX_UINT32,
    maxPendingRequests: MAX_UINT32,
    maxRequests: MAX_UINT32,
    maxRetries: MAX_UINT32,
  };
  let idleTimeout: Duration | undefined;
  let maxConnectionDuration: Duration | undefined;
  let maxRequestsPerConnection = 0;
  if (http) {
    if ((num(http.http2MaxRequests) ?? 0) > 0) t.maxRequests = num(http.http2MaxRequests) as number;
    if ((num(http.http1MaxPendingRequests) ?? 0) > 0)
      t.maxPendingRequests = num(http.http1MaxPendingRequests) as number;
    if ((num(http.maxRetries) ?? 0) > 0) t.maxRetries = num(http.maxRetries) as number;
    if (http.idleTimeout !== undefined) idleTimeout = toDuration(http.idleTimeout);
    maxRequestsPerConnection = num(http.maxRequestsPerConnection) ?? 0;
  }
  c.connectTimeout = MESH_CONNECT_TIMEOUT; // applyDefaultConnectionPool
  if (tcp) {
    if (tcp.connectTimeout !== undefined) c.connectTimeout = toDuration(tcp.connectTimeout);
    if ((num(tcp.maxConnections) ?? 0) > 0) t.maxConnections = num(tcp.maxConnections) as number;
    if (tcp.maxConnectionDuration !== undefined)
      maxConnectionDuration = toDuration(tcp.maxConnectionDuration);
    if (idleTimeout === undefined && tcp.idleTimeout !== undefined) idleTimeout = toDuration(tcp.idleTimeout);
    const ka = tcp.tcpKeepalive as Json | undefined;
    if (ka) {
      // setKeepAliveSettings: an empty tcpKeepalive turns SO_KEEPALIVE on with the OS's values.
      const k: NonNullable<EnvoyCluster["upstreamConnectionOptions"]>["tcpKeepalive"] = {};
      if ((num(ka.probes) ?? 0) > 0) k.keepaliveProbes = num(ka.probes) as number;
      if (ka.time !== undefined) k.keepaliveTime = Math.trunc(Number.parseFloat(toDuration(ka.time)));
      if (ka.interval !== undefined)
        k.keepaliveInterval = Math.trunc(Number.parseFloat(toDuration(ka.interval)));
      c.upstreamConnectionOptions = { tcpKeepalive: k };
    }
  }
  c.circuitBreakers = { thresholds: [t] };
  if (idleTimeout || maxConnectionDuration || maxRequestsPerConnection > 0) {
    const common: NonNullable<HttpProtocolOptionsAny["commonHttpProtocolOptions"]> = {};
    if (idleTimeout) common.idleTimeout = idleTimeout;
    if (maxConnectionDuration) common.maxConnectionDuration = maxConnectionDuration;
    if (maxRequestsPerConnection > 0) common.maxRequestsPerConnection = maxRequestsPerConnection;
    opts.common = common;
  }
  if (http?.useClientProtocol === true) opts.useClientProtocol = true;
}

/** applyOutlierDetection: success-rate ejection off, enforcing 100% for any non-zero threshold. */
function applyOutlierDetection(c: EnvoyCluster, o: Json, service: MeshService): void {
  const out: EnvoyOutlierDetection = { enforcingSuccessRate: 0 };
  const c5 = num(o.consecutive5xxErrors);
  if (c5 !== undefined) {
    out.consecutive5xx = c5;
    out.enforcingConsecutive5xx = c5 > 0 ? 100 : 0;
  }
  const gw = num(o.consecutiveGatewayErrors);
  if (gw !== undefined) {
    out.consecutiveGatewayFailure = gw;
    out.enforcingConsecutiveGatewayFailure = gw > 0 ? 100 : 0;
  }
  if (o.interval !== undefined) out.interval = toDuration(o.interval);
  if (o.baseEjectionTime !== undefined) out.baseEjectionTime = toDuration(o.baseEjectionTime);
  if ((num(o.maxEjectionPercent) ?? 0) > 0) out.maxEjectionPercent = num(o.maxEjectionPercent) as number;
  if (o.splitExternalLocalOriginErrors === true) {
    out.splitExternalLocalOriginErrors = true;
    const lo = num(o.consecutiveLocalOriginFailures) ?? 0;
    if (lo > 0) {
      out.consecutiveLocalOriginFailure = lo;
      out.enforcingConsecutiveLocalOriginFailure = 100;
    }
    out.enforcingLocalOriginSuccessRate = 0;
  }
  c.outlierDetection = out;
  // The panic threshold is written even when 0 (Envoy's own default is 50%); proto3 JSON prints a
  // zero Percent as {}.
  let min = num(o.minHealthPercent) ?? 0;
  if (min >= 0) {
    if (service.trafficDistribution) min = 0; // ForcesSupportUnhealthyEndpoints
    c.commonLbConfig = { ...c.commonLbConfig, healthyPanicThreshold: min === 0 ? {} : { value: min } };
  }
}

/** applyLoadBalancer (+ GetEffectiveLbSetting/ApplyToCluster, ApplyRingHashLoadBalancer). */
function applyLoadBalancer(c: EnvoyCluster, lb: Json | undefined, service: MeshService): void {
  if (!c.commonLbConfig) c.commonLbConfig = {};
  const common = c.commonLbConfig;
  // PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS defaults to true, so every service "supports unhealthy
  // endpoints" and istiod disables the panic threshold unless outlier detection already set it.
  if (!common.healthyPanicThreshold) common.healthyPanicThreshold = {};
  const locality = lb?.localityLbSetting as Json | undefined;
  const enabled = locality?.enabled !== false;
  // The default mesh LocalityLbSetting {enabled: true} has neither failover nor distribute, so the
  // weighted-locality config appears only for a rule's own distribute/failover or trafficDistribution.
  const failover = locality?.failover !== undefined || locality?.failoverPriority !== undefined;
  if (
    (locality && enabled && (locality.distribute !== undefined || (c.outlierDetection && failover))) ||
    (!locality && service.trafficDistribution)
  )
    common.localityWeightedLbConfig = {};
  const simple = lb?.simple as string | undefined;
  const warmup = slowStart(lb);
  if (simple === "RANDOM") c.lbPolicy = "RANDOM";
  else if (simple === "ROUND_ROBIN") {
    c.lbPolicy = "ROUND_ROBIN";
    if (warmup) c.roundRobinLbConfig = { slowStartConfig: warmup };
  } else {
    // LEAST_CONN, LEAST_REQUEST, UNSPECIFIED and no rule all become LEAST_REQUEST (defaultLBAlgorithm).
    c.lbPolicy = "LEAST_REQUEST";
    if (warmup) c.leastRequestLbConfig = { slowStartConfig: warmup };
  }
  const hash = lb?.consistentHash as Json | undefined;
  if (!hash) return;
  // ApplyRingHashLoadBalancer runs after the simple policy and replaces it (and its lbConfig).
  delete c.roundRobinLbConfig;
  delete c.leastRequestLbConfig;
  const maglev = hash.maglev as Json | undefined;
  const ring = hash.ringHash as Json | undefined;
  if (maglev) {
    c.lbPolicy = "MAGLEV";
    if ((num(maglev.tableSize) ?? 0) !== 0) c.maglevLbConfig = { tableSize: String(maglev.tableSize) };
  } else if (ring) {
    c.lbPolicy = "RING_HASH";
    if ((num(ring.minimumRingSize) ?? 0) !== 0)
      c.ringHashLbConfig = { minimumRingSize: String(ring.minimumRingSize) };
  } else {
    // Only the deprecated top-level minimumRingSize; 1024 is written explicitly otherwise.
    c.lbPolicy = "RING_HASH";
    const size = num(hash.minimumRingSize) ?? 0;
    c.ringHashLbConfig = { minimumRingSize: String(size !== 0 ? size : 1024) };
  }
}

/** setWarmup / setSlowStartConfig. */
function slowStart(
  lb: Json | undefined,
): NonNullable<EnvoyCluster["roundRobinLbConfig"]>["slowStartConfig"] | undefined {
  const w = lb?.warmup as Json | undefined;
  if (w) {
    return {
      ...(w.duration !== undefined ? { slowStartWindow: toDuration(w.duration) } : {}),
      aggression: { defaultValue: num(w.aggression) ?? 1, runtimeKey: "(" },
      minWeightPercent: { value: num(w.minimumPercent) ?? 10 },
    };
  }
  if (lb?.warmupDurationSecs !== undefined) return { slowStartWindow: toDuration(lb.warmupDurationSecs) };
  return undefined;
}

interface HttpOptions {
  h2?: boolean;
  useClientProtocol?: boolean;
  common?: HttpProtocolOptionsAny["commonHttpProtocolOptions"];
}

/** ClusterBuilder.applyTrafficPolicy for an outbound cluster (TLS origination not reproduced). */
function applyTrafficPolicy(
  c: EnvoyCluster,
  policy: TrafficPolicy | undefined,
  port: ServicePort,
  s: MeshService,
): void {
  const opts: HttpOptions = {};
  // setUpstreamProtocol: HTTP/2 ports (http2, grpc, grpc-web) always talk h2 upstream.
  if (["HTTP2", "GRPC", "GRPC-Web"].includes(port.protocol)) opts.h2 = true;
  const pool = policy?.connectionPool ?? {};
  const http = pool.http as Json | undefined;
  // applyH2Upgrade: the mesh default is DO_NOT_UPGRADE, so only a rule's UPGRADE on an HTTP port upgrades.
  if (http?.h2UpgradePolicy === "UPGRADE" && http.useClientProtocol !== true) opts.h2 = true;
  applyConnectionPool(c, pool, opts);
  if (policy?.outlierDetection) applyOutlierDetection(c, policy.outlierDetection, s);
  applyLoadBalancer(c, policy?.loadBalancer, s);
  // clusterWrapper.build: the options are packed only when something set them.
  if (opts.h2 || opts.useClientProtocol || opts.common) {
    const o: HttpProtocolOptionsAny = { "@type": HTTP_PROTOCOL_OPTIONS_TYPE_URL };
    if (opts.common) o.commonHttpProtocolOptions = opts.common;
    if (opts.useClientProtocol)
      o.useDownstreamProtocolConfig = { httpProtocolOptions: {}, http2ProtocolOptions: {} };
    else o.explicitHttpConfig = opts.h2 ? { http2ProtocolOptions: {} } : { httpProtocolOptions: {} };
    c.typedExtensionProtocolOptions = { [HTTP_PROTOCOL_OPTIONS_KEY]: o };
  }
}

// ---- Cluster assembly (cluster.go buildOutboundClusters, cluster_builder.go) ----

/** model.BuildSubsetKey. */
export const clusterName = (port: number, subset: string, host: string) =>
  `outbound|${port}|${subset}|${host}`;

/** PILOT_PERSISTENT_SESSION_LABEL / _HEADER_LABEL defaults. */
const PERSISTENT_SESSION_LABELS = ["istio.io/persistent-session", "istio.io/persistent-session-header"];

/** The metadata-exchange cluster filter (xdsfilters.TCPClusterMx; PILOT_ENABLE_METADATA_EXCHANGE on). */
const TCP_CLUSTER_MX = {
  name: "istio.metadata_exchange",
  typedConfig: {
    "@type": "type.googleapis.com/udpa.type.v1.TypedStruct" as const,
    typeUrl: "type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange",
    value: { protocol: "istio-peer-exchange", enable_discovery: true },
  },
};

/** util.AddConfigInfoMetadata's path for a DestinationRule (gvk networking.istio.io/v1). */
const ruleConfigPath = (o: KubeObject) =>
  `/apis/networking.istio.io/v1/namespaces/${o.metadata.namespace ?? "default"}/destination-rule/${o.metadata.name}`;

/** ClusterBuilder.buildCluster (EDS) + addTelemetryMetadata, then the traffic policy and EDS config. */
function buildEdsCluster(
  name: string,
  s: MeshService,
  port: ServicePort,
  policy: TrafficPolicy | undefined,
  rule: ResolvedRule | undefined,
  subset?: string,
): EnvoyCluster {
  const c: EnvoyCluster = {
    "@type": CLUSTER_TYPE_URL,
    name,
    type: "EDS",
    altStatName: `${name};`, // util.DelimitedStatsPrefix
    connectTimeout: MESH_CONNECT_TIMEOUT,
    commonLbConfig: {},
  };
  // Only the default cluster keeps DRAINING hosts for a persistent session's explicit override.
  if (subset === undefined && PERSISTENT_SESSION_LABELS.some((l) => s.labels[l]))
    c.commonLbConfig = { overrideHostStatus: { statuses: ["HEALTHY", "DRAINING", "UNKNOWN", "DEGRADED"] } };
  applyTrafficPolicy(c, policy, port, s);
  c.edsClusterConfig = {
    edsConfig: { ads: {}, initialFetchTimeout: "0s", resourceApiVersion: "V3" },
    serviceName: name,
  }; // maybeApplyEdsConfig
  c.filters = [TCP_CLUSTER_MX]; // applyMetadataExchange
  const istio: JsonStruct = { services: [{ host: s.hostname, name: s.name, namespace: s.namespace }] };
  if (rule) istio.config = ruleConfigPath(rule.object);
  if (subset !== undefined) istio.subset = subset; // util.AddSubsetToMetadata
  c.metadata = { filterMetadata: { istio } };
  return c;
}

/** BuildClusters for a router: every non-UDP port of every service, its subsets, then BlackHoleCluster. */
/** One push's clusters, built once: EDS reads them to know which load assignments to build. */
const clustersByInput = new WeakMap<IstiodInput, EnvoyCluster[]>();

export function buildClusters(input: IstiodInput): EnvoyCluster[] {
  let clusters = clustersByInput.get(input);
  if (!clusters) {
    clusters = assembleClusters(input);
    clustersByInput.set(input, clusters);
  }
  return clusters;
}

function assembleClusters(input: IstiodInput): EnvoyCluster[] {
  const out: EnvoyCluster[] = [];
  const seen = new Set<string>();
  for (const s of meshServices(input)) {
    const rule = destinationRuleFor(input, s.hostname);
    for (const port of s.ports) {
      if (port.protocol === "UDP") continue;
      const name = clusterName(port.port, "", s.hostname);
      // normalizeClusters keeps the first of duplicate names.
      if (seen.has(name)) continue;
      seen.add(name);
      const [policy] = portLevelPolicy(rule?.spec.trafficPolicy, port.port);
      out.push(buildEdsCluster(name, s, port, policy, rule));
      for (const subset of rule?.spec.subsets ?? []) {
        const merged = mergeSubsetPolicy(rule?.spec.trafficPolicy, subset.trafficPolicy, port.port);
        out.push(
          buildEdsCluster(
            clusterName(port.port, subset.name, s.hostname),
            s,
            port,
            merged,
            rule,
            subset.name,
          ),
        );
      }
    }
  }
  // buildBlackHoleCluster: STATIC with no endpoints, for routes that lead nowhere.
  out.push({
    "@type": CLUSTER_TYPE_URL,
    name: "BlackHoleCluster",
    type: "STATIC",
    altStatName: "BlackHoleCluster;",
    connectTimeout: MESH_CONNECT_TIMEOUT,
  });
  return out;
}
