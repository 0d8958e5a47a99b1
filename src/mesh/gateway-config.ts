/**
 * What istiod would push to the ingress gateway, computed from the applied objects: the virtual
 * hosts (VirtualService hosts narrowed by the Gateway's server hosts), their routes in order, and a
 * cluster per destination `outbound|port|subset|fqdn` with the DestinationRule's load balancer.
 * Pure: the gateway and the admin API's config_dump both read this one structure.
 *
 * Istio rules reproduced here: LEAST_REQUEST when no rule sets a policy; consistentHash → RING_HASH
 * (minimum ring 1024) or MAGLEV; one hash policy per destination, appended for weighted routes; a
 * port-level consistentHash reaches the route only when the destination names its port; subset
 * settings override the top level; the default retry policy keeps retries on the same host for a
 * single consistent-hash destination; persistent sessions from the Service's labels.
 */
import type { HashPolicy } from "../lb/hash-policy.js";
import { hashPolicyFromIstio, type IstioConsistentHash } from "../lb/istio-hash-policy.js";
import { ENVOY_OUTLIER_DEFAULTS, type OutlierDetectionConfig } from "../lb/outlier-detector.js";
import { ISTIO_SIMPLE_POLICIES, type LoadBalancerPolicy } from "../lb/registry.js";
import { istioDefaultRetryPolicy, type RetryPolicy } from "../lb/retry.js";
import { type SessionStateConfig, sessionConfigFromLabels } from "../lb/stateful-session.js";
import type {
  ConnectionPoolSettings,
  DestinationRuleModel,
  GatewayModel,
  HttpMatch,
  LoadBalancerSettings,
  OutlierDetectionSettings,
  ServiceModel,
  ServicePort,
  TrafficPolicy,
  VirtualServiceModel,
} from "./model.js";
import { serviceFqdn } from "./model.js";
import { type CircuitBreakerLimits, DEFAULT_LIMITS } from "./upstream/circuit-breakers.js";

/** The labels of the local ingress gateway's pod, which Gateway selectors must pick. */
export const INGRESS_LABELS: Readonly<Record<string, string>> = {
  istio: "ingressgateway",
  app: "istio-ingressgateway",
};

export interface ClusterConfig {
  readonly name: string;
  readonly serviceFqdn: string;
  /** namespace/name of the Service, or undefined when the host names no Service. */
  readonly service?: { readonly namespace: string; readonly name: string };
  readonly port: number;
  readonly subset?: string;
  readonly subsetLabels: Readonly<Record<string, string>>;
  readonly lbPolicy: LoadBalancerPolicy;
  readonly minRingSize?: number;
  readonly tableSize?: number;
  readonly session?: SessionStateConfig;
  /** namespace/name of the DestinationRule in force. */
  readonly destinationRule?: string;
  /** Envoy's cluster connect_timeout: the rule's `connectionPool.tcp.connectTimeout`, else Istio's 10 s. */
  readonly connectTimeoutMs: number;
  /** Upstream connection idle timeout: `connectionPool.http.idleTimeout`, else Envoy's 1 h. */
  readonly idleTimeoutMs: number;
  /** `connectionPool.http.maxRequestsPerConnection` when above 0 (1 turns keep-alive off). */
  readonly maxRequestsPerConnection?: number;
  /** Envoy's circuit-breaker thresholds (default priority), as Istio builds them from `connectionPool`. */
  readonly circuitBreakers: CircuitBreakerLimits;
  /** Envoy's outlier detection, as Istio builds it from the rule's `outlierDetection`; none without one. */
  readonly outlierDetection?: OutlierDetectionConfig;
  /**
   * Envoy's healthy_panic_threshold (percent): below that share of healthy hosts the balancer uses all
   * of them. Envoy's 50 unless an `outlierDetection` sets it (its `minHealthPercent`, 0 by default).
   */
  readonly panicThresholdPercent: number;
}

/** Envoy's default healthy_panic_threshold. */
export const ENVOY_PANIC_THRESHOLD_PERCENT = 50;

/** Envoy's default upstream idle_timeout, which Istio keeps unless `connectionPool.http.idleTimeout` is set. */
export const DEFAULT_UPSTREAM_IDLE_TIMEOUT_MS = 3_600_000;

/** MeshConfig `connectTimeout`'s default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface RetrySettings extends RetryPolicy {
  readonly retryOn: readonly string[];
  readonly retriableStatusCodes: readonly number[];
}

export interface RouteConfig {
  readonly name: string;
  readonly virtualService: string;
  readonly match: readonly HttpMatch[];
  readonly destinations: readonly { readonly cluster: string; readonly weight: number }[];
  readonly hashPolicies: readonly HashPolicy[];
  readonly retry: RetrySettings;
  readonly timeoutMs?: number;
}

export interface VirtualHostConfig {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly RouteConfig[];
}

export interface GatewayConfig {
  readonly servers: readonly {
    readonly gateway: string;
    readonly port: number;
    readonly hosts: readonly string[];
  }[];
  readonly virtualHosts: readonly VirtualHostConfig[];
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
}

export interface ConfigInputs {
  readonly gateways: readonly GatewayModel[];
  readonly virtualServices: readonly VirtualServiceModel[];
  readonly destinationRules: readonly DestinationRuleModel[];
  readonly services: readonly ServiceModel[];
}

/** Istio's retry_on default (retry.go); retriable status codes are empty since 1.24. */
export const DEFAULT_RETRY_ON = [
  "connect-failure",
  "refused-stream",
  "unavailable",
  "cancelled",
  "retriable-status-codes",
];

export function clusterName(port: number, subset: string | undefined, fqdn: string): string {
  return `outbound|${port}|${subset ?? ""}|${fqdn}`;
}

/** Whether a host pattern (exact, `*` or `*.suffix`) covers a host (which may itself be a wildcard). */
export function hostCovers(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*")) {
    const suffix = pattern.slice(1);
    return host.endsWith(suffix) && host.length > suffix.length;
  }
  return pattern === host;
}

function boundGateways(vs: VirtualServiceModel, gateways: readonly GatewayModel[]): GatewayModel[] {
  return gateways.filter((g) =>
    vs.gateways.some((ref) => {
      const [ns, name] = ref.includes("/") ? (ref.split("/", 2) as [string, string]) : [vs.namespace, ref];
      return g.name === name && g.namespace === ns;
    }),
  );
}

function selectsIngress(g: GatewayModel): boolean {
  const entries = Object.entries(g.selector);
  return entries.length > 0 && entries.every(([k, v]) => INGRESS_LABELS[k] === v);
}

function serverHost(host: string, vsNamespace: string, gatewayNamespace: string): string | undefined {
  if (!host.includes("/")) return host;
  const [ns, h] = host.split("/", 2) as [string, string];
  if (ns === "*" || ns === vsNamespace || (ns === "." && vsNamespace === gatewayNamespace)) return h;
  return undefined;
}

function mergeLoadBalancer(
  dr: DestinationRuleModel | undefined,
  port: number,
  subset: string | undefined,
): { settings?: LoadBalancerSettings; routeHash?: IstioConsistentHash; portLevelHash?: IstioConsistentHash } {
  if (!dr) return {};
  const policies: TrafficPolicy[] = [];
  if (dr.trafficPolicy) policies.push(dr.trafficPolicy);
  const sub = subset === undefined ? undefined : dr.subsets.find((s) => s.name === subset);
  if (sub?.trafficPolicy) policies.push(sub.trafficPolicy);
  let settings: LoadBalancerSettings | undefined;
  let portLevel: LoadBalancerSettings | undefined;
  for (const policy of policies) {
    if (policy.loadBalancer) settings = policy.loadBalancer;
    const level = policy.portLevelSettings.find((p) => p.port === port)?.loadBalancer;
    if (level) portLevel = level;
    else if (policy.loadBalancer && policy === sub?.trafficPolicy) portLevel = undefined;
  }
  const effective = portLevel ?? settings;
  return {
    ...(effective ? { settings: effective } : {}),
    ...(settings?.consistentHash ? { routeHash: settings.consistentHash } : {}),
    ...(portLevel?.consistentHash ? { portLevelHash: portLevel.consistentHash } : {}),
  };
}

/**
 * Istio's translation of `outlierDetection` (applyOutlierDetection): a count that is set becomes
 * Envoy's threshold, enforced at 100% when above 0 and not at all at 0; an unset one keeps Envoy's
 * default (5xx enforced, gateway errors not). The deprecated `consecutiveErrors` is not read by Istio
 * since 1.7. `maxEjectionPercent` 0 keeps Envoy's 10%; `minHealthPercent` becomes the panic threshold.
 */
function outlierDetectionOf(settings: OutlierDetectionSettings): {
  outlierDetection: OutlierDetectionConfig;
  panicThresholdPercent: number;
} {
  const d = ENVOY_OUTLIER_DEFAULTS;
  const fivexx = settings.consecutive5xxErrors;
  const gateway = settings.consecutiveGatewayErrors;
  return {
    outlierDetection: {
      ...d,
      ...(fivexx === undefined
        ? {}
        : { consecutive5xx: fivexx, enforcingConsecutive5xx: fivexx > 0 ? 100 : 0 }),
      ...(gateway === undefined
        ? {}
        : { consecutiveGatewayFailure: gateway, enforcingConsecutiveGatewayFailure: gateway > 0 ? 100 : 0 }),
      ...(settings.intervalMs === undefined ? {} : { intervalMs: settings.intervalMs }),
      ...(settings.baseEjectionTimeMs === undefined
        ? {}
        : { baseEjectionTimeMs: settings.baseEjectionTimeMs }),
      ...(settings.maxEjectionPercent ? { maxEjectionPercent: settings.maxEjectionPercent } : {}),
    },
    panicThresholdPercent: settings.minHealthPercent ?? 0,
  };
}

/**
 * A connection pool or outlier detection in force for a port, as Istio merges traffic policies: a
 * subset's replaces the rule's, and a port-level entry for the port replaces its policy's even when it
 * sets none ("port level policies do not inherit").
 */
function mergePortPolicy<K extends "connectionPool" | "outlierDetection">(
  dr: DestinationRuleModel | undefined,
  port: number,
  subset: string | undefined,
  field: K,
): TrafficPolicy[K] | undefined {
  if (!dr) return undefined;
  const sub = subset === undefined ? undefined : dr.subsets.find((s) => s.name === subset);
  let value: TrafficPolicy[K] | undefined;
  for (const policy of [dr.trafficPolicy, sub?.trafficPolicy]) {
    if (!policy) continue;
    if (policy[field]) value = policy[field];
    const level = policy.portLevelSettings.find((p) => p.port === port);
    if (level) value = level[field];
  }
  return value;
}

/**
 * Istio's circuit-breaker thresholds: 2^32 − 1 each, replaced by a `connectionPool` count above 0
 * (`tcp.maxConnections` → max_connections, `http.http1MaxPendingRequests` → max_pending_requests,
 * `http.http2MaxRequests` → max_requests, `http.maxRetries` → max_retries).
 */
function circuitBreakersOf(pool: ConnectionPoolSettings | undefined): CircuitBreakerLimits {
  const pick = (value: number | undefined, fallback: number) =>
    value !== undefined && value > 0 ? value : fallback;
  return {
    maxConnections: pick(pool?.maxConnections, DEFAULT_LIMITS.maxConnections),
    maxPendingRequests: pick(pool?.http1MaxPendingRequests, DEFAULT_LIMITS.maxPendingRequests),
    maxRequests: pick(pool?.http2MaxRequests, DEFAULT_LIMITS.maxRequests),
    maxRetries: pick(pool?.maxRetries, DEFAULT_LIMITS.maxRetries),
  };
}

function lbOf(
  settings: LoadBalancerSettings | undefined,
): Pick<ClusterConfig, "lbPolicy" | "minRingSize" | "tableSize"> {
  const ch = settings?.consistentHash;
  if (ch) {
    if (ch.maglev) return { lbPolicy: "maglev", tableSize: ch.maglev.tableSize ?? 65537 };
    return { lbPolicy: "ring-hash", minRingSize: ch.ringHash?.minimumRingSize || ch.minimumRingSize || 1024 };
  }
  const simple = settings?.simple;
  return { lbPolicy: (simple && ISTIO_SIMPLE_POLICIES[simple]) || "least-request" };
}

function findDestinationRule(
  rules: readonly DestinationRuleModel[],
  fqdn: string,
): DestinationRuleModel | undefined {
  const exact = rules.find((r) => serviceFqdn(r.host, r.namespace) === fqdn);
  if (exact) return exact;
  return rules
    .filter((r) => r.host.startsWith("*") && hostCovers(r.host, fqdn))
    .sort((a, b) => b.host.length - a.host.length)[0];
}

function parseRetryOn(text: string | undefined): { retryOn: string[]; codes: number[] } {
  if (text === undefined) return { retryOn: DEFAULT_RETRY_ON, codes: [] };
  const retryOn: string[] = [];
  const codes: number[] = [];
  for (const item of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (/^\d{3}$/.test(item)) {
      codes.push(Number(item));
      if (!retryOn.includes("retriable-status-codes")) retryOn.push("retriable-status-codes");
    } else retryOn.push(item);
  }
  return { retryOn, codes };
}

export function buildGatewayConfig(inputs: ConfigInputs): GatewayConfig {
  const clusters = new Map<string, ClusterConfig>();
  const servicesByFqdn = new Map(
    inputs.services.map((s) => [`${s.name}.${s.namespace}.svc.cluster.local`, s]),
  );
  const ingress = inputs.gateways.filter(selectsIngress);
  const servers = ingress.flatMap((g) =>
    g.servers
      .filter((s) => s.port.protocol === "HTTP" || s.port.protocol === "HTTP2")
      .map((s) => ({ gateway: `${g.namespace}/${g.name}`, port: s.port.number, hosts: s.hosts })),
  );

  const cluster = (host: string, namespace: string, port: number | undefined, subset: string | undefined) => {
    const fqdn = serviceFqdn(host, namespace);
    const service = servicesByFqdn.get(fqdn);
    const servicePort: ServicePort | undefined =
      port === undefined ? service?.ports[0] : service?.ports.find((p) => p.port === port);
    const number = port ?? servicePort?.port ?? 80;
    const dr = findDestinationRule(inputs.destinationRules, fqdn);
    const merged = mergeLoadBalancer(dr, number, subset);
    const subsetLabels =
      subset === undefined ? {} : (dr?.subsets.find((s) => s.name === subset)?.labels ?? {});
    const name = clusterName(number, subset, fqdn);
    const session = service ? sessionConfigFromLabels(service.labels) : undefined;
    const outlier = mergePortPolicy(dr, number, subset, "outlierDetection");
    const pool = mergePortPolicy(dr, number, subset, "connectionPool");
    const config: ClusterConfig = {
      name,
      serviceFqdn: fqdn,
      ...(service ? { service: { namespace: service.namespace, name: service.name } } : {}),
      port: number,
      ...(subset === undefined ? {} : { subset }),
      subsetLabels,
      ...lbOf(merged.settings),
      ...(session ? { session } : {}),
      ...(dr ? { destinationRule: `${dr.namespace}/${dr.name}` } : {}),
      connectTimeoutMs: pool?.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: pool?.idleTimeoutMs ?? DEFAULT_UPSTREAM_IDLE_TIMEOUT_MS,
      ...(pool?.maxRequestsPerConnection ? { maxRequestsPerConnection: pool.maxRequestsPerConnection } : {}),
      circuitBreakers: circuitBreakersOf(pool),
      ...(outlier ? outlierDetectionOf(outlier) : { panicThresholdPercent: ENVOY_PANIC_THRESHOLD_PERCENT }),
    };
    clusters.set(name, config);
    // Pitfall reproduced: a port-level hash reaches the route only if the destination names the port.
    const hash = port !== undefined && merged.portLevelHash ? merged.portLevelHash : merged.routeHash;
    return { name, hash };
  };

  const hostsByDomain = new Map<string, RouteConfig[]>();
  const order: string[] = [];
  for (const vs of inputs.virtualServices) {
    const gateways = boundGateways(vs, ingress);
    if (gateways.length === 0) continue;
    const domains = new Set<string>();
    for (const g of gateways) {
      for (const server of g.servers) {
        if (server.port.protocol !== "HTTP" && server.port.protocol !== "HTTP2") continue;
        for (const raw of server.hosts) {
          const sh = serverHost(raw, vs.namespace, g.namespace);
          if (sh === undefined) continue;
          for (const h of vs.hosts) {
            if (hostCovers(sh, h)) domains.add(h);
            else if (hostCovers(h, sh)) domains.add(sh);
          }
        }
      }
    }
    const routes = vs.http.map((http, i): RouteConfig => {
      const destinations = http.route.map((d) => ({
        ...cluster(d.host, vs.namespace, d.port, d.subset),
        weight: d.weight,
      }));
      const hashPolicies = destinations.flatMap((d) => {
        const policy = d.hash ? hashPolicyFromIstio(d.hash) : undefined;
        return policy ? [policy] : [];
      });
      const base = istioDefaultRetryPolicy({
        consistentHash: hashPolicies.length > 0,
        destinations: destinations.length,
      });
      const { retryOn, codes } = parseRetryOn(http.retries?.retryOn);
      return {
        name: http.name ?? `${vs.namespace}.${vs.name}.${i}`,
        virtualService: `${vs.namespace}/${vs.name}`,
        match: http.match,
        destinations: destinations.map((d) => ({ cluster: d.name, weight: d.weight })),
        hashPolicies,
        retry: {
          ...base,
          numRetries: http.retries ? http.retries.attempts : base.numRetries,
          retryOn,
          retriableStatusCodes: codes,
        },
        ...(http.timeoutMs === undefined ? {} : { timeoutMs: http.timeoutMs }),
      };
    });
    for (const domain of domains) {
      if (!hostsByDomain.has(domain)) {
        hostsByDomain.set(domain, []);
        order.push(domain);
      }
      hostsByDomain.get(domain)?.push(...routes);
    }
  }
  const virtualHosts = order.map((domain) => ({
    name: `${domain}:${servers[0]?.port ?? 80}`,
    domains: [domain],
    routes: hostsByDomain.get(domain) ?? [],
  }));
  return { servers, virtualHosts, clusters };
}
