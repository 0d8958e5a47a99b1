/**
 * What istiod's cluster builder reads: Services as its Kubernetes registry converts them
 * (pilot/pkg/serviceregistry/kube), the DestinationRule that applies to a host with its subsets and
 * merged traffic policies (pilot/pkg/model), and value conversions. Shared by CDS, EDS and RDS.
 */
import type { Duration } from "../xds/cluster-types.js";
import type { IstiodInput, KubeObject } from "./input.js";
import { protoDuration } from "./route-duration.js";

// ---- The service model (pilot/pkg/serviceregistry/kube conversion) ----

export interface ServicePort {
  readonly name: string;
  readonly port: number;
  /** Istio's protocol, as kube.ConvertProtocol derives it. */
  readonly protocol: string;
}

export interface MeshService {
  readonly name: string;
  readonly namespace: string;
  readonly hostname: string;
  readonly ports: readonly ServicePort[];
  readonly labels: Readonly<Record<string, string>>;
  /** spec.trafficDistribution, when set to anything but the default. */
  readonly trafficDistribution?: string;
}

const PROTOCOLS: Record<string, string> = {
  tcp: "TCP",
  udp: "UDP",
  grpc: "GRPC",
  "grpc-web": "GRPC-Web",
  http: "HTTP",
  http_proxy: "HTTP_PROXY",
  http2: "HTTP2",
  https: "HTTPS",
  tls: "TLS",
  mongo: "Mongo",
  redis: "Redis",
  mysql: "MySQL",
};
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);

/** kube.ConvertProtocol: UDP, then appProtocol (with Kubernetes' standard names), then the name prefix. */
export function convertProtocol(port: number, name: string, protocol?: string, appProtocol?: string): string {
  if (protocol === "UDP") return "UDP";
  let n = appProtocol ?? name;
  if (appProtocol === "kubernetes.io/h2c") return "HTTP2";
  if (appProtocol === "kubernetes.io/ws") return "HTTP";
  if (appProtocol === "kubernetes.io/wss") return "HTTPS";
  if (n.toLowerCase().startsWith("grpc-web")) return "GRPC-Web";
  const dash = n.indexOf("-");
  if (dash >= 0) n = n.slice(0, dash);
  const p = PROTOCOLS[n.toLowerCase()];
  if (p) return p;
  return WELL_KNOWN_TCP_PORTS.has(port) ? "TCP" : "UnsupportedProtocol";
}

interface ServiceSpec {
  ports?: { name?: string; port: number; protocol?: string; appProtocol?: string }[];
  trafficDistribution?: string;
}

/**
 * Every Service of the mesh, ordered by hostname: with PILOT_FILTER_GATEWAY_CLUSTER_CONFIG off (the
 * default) BuildClusters gives a router the SidecarScope's services, i.e. all that are exported to it.
 */
/**
 * Work done once per push and shared by CDS, EDS and RDS: an input is immutable, so what is derived
 * from it is kept beside it (a full push reads every Service and rule once, not once per Service).
 */
const perInput = new WeakMap<IstiodInput, { services?: MeshService[]; rules?: RuleIndex }>();

function cacheOf(input: IstiodInput) {
  let cache = perInput.get(input);
  if (!cache) {
    cache = {};
    perInput.set(input, cache);
  }
  return cache;
}

export function meshServices(input: IstiodInput): MeshService[] {
  const cache = cacheOf(input);
  cache.services ??= readServices(input);
  return cache.services;
}

function readServices(input: IstiodInput): MeshService[] {
  return input.services
    .filter((s) => s.kind === "Service")
    .map((s) => {
      const spec = (s.spec ?? {}) as ServiceSpec;
      const namespace = s.metadata.namespace ?? "default";
      const ports = (spec.ports ?? []).map((p) => ({
        name: p.name ?? "",
        port: p.port,
        protocol: convertProtocol(p.port, p.name ?? "", p.protocol, p.appProtocol),
      }));
      const td = spec.trafficDistribution;
      return {
        name: s.metadata.name,
        namespace,
        hostname: `${s.metadata.name}.${namespace}.svc.${input.proxy.domainSuffix}`,
        ports,
        labels: s.metadata.labels ?? {},
        ...(td ? { trafficDistribution: td } : {}),
      };
    })
    .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
}

// ---- DestinationRules (istio.io/api networking v1 TrafficPolicy, as JSON) ----

export type Json = Record<string, unknown>;
export interface TrafficPolicy {
  connectionPool?: Json;
  loadBalancer?: Json;
  outlierDetection?: Json;
  tls?: Json;
  portLevelSettings?: (Json & { port?: { number?: number } })[];
  retryBudget?: Json;
  proxyProtocol?: Json;
  tunnel?: Json;
}
export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}
interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
}

/** A DestinationRule with its host made fully qualified in the rule's own namespace. */
export interface ResolvedRule {
  readonly object: KubeObject;
  readonly spec: DestinationRuleSpec;
  readonly host: string;
}

function qualify(host: string, namespace: string, suffix: string): string {
  // A short name (no dot) is resolved in the rule's namespace (model.ResolveShortnameToFQDN).
  return host.includes(".") || host.startsWith("*") ? host : `${host}.${namespace}.svc.${suffix}`;
}

/**
 * The DestinationRule the gateway proxy sees for a hostname (SidecarScope.DestinationRule): an exact
 * host before the most specific wildcard; among equals, one in the proxy's namespace, then in the
 * host's, then any other, in the order applied. istiod merges several rules for one host; here one wins.
 * CDS, EDS and RDS all ask this one function, so a route's hash policy and its cluster's balancer come
 * from the same rule.
 */
export function destinationRuleFor(input: IstiodInput, hostname: string): ResolvedRule | undefined {
  const cache = cacheOf(input);
  cache.rules ??= indexRules(input);
  const hostNamespace = hostname.split(".")[1];
  const rank = (r: ResolvedRule) => {
    const ns = r.object.metadata.namespace ?? "default";
    const exact = r.host === hostname ? 0 : 1_000_000 - r.host.length;
    return exact * 10 + (ns === input.proxy.namespace ? 0 : ns === hostNamespace ? 1 : 2);
  };
  let best: ResolvedRule | undefined;
  const candidates = [
    ...(cache.rules.exact.get(hostname) ?? []),
    ...cache.rules.wildcards.filter((r) => hostname.endsWith(r.host.slice(1))),
  ];
  for (const candidate of candidates) if (!best || rank(candidate) < rank(best)) best = candidate;
  return best;
}

interface RuleIndex {
  /** Rules by their fully qualified host, in the order applied. */
  readonly exact: ReadonlyMap<string, readonly ResolvedRule[]>;
  readonly wildcards: readonly ResolvedRule[];
}

function indexRules(input: IstiodInput): RuleIndex {
  const exact = new Map<string, ResolvedRule[]>();
  const wildcards: ResolvedRule[] = [];
  for (const o of input.destinationRules) {
    const spec = o.spec as DestinationRuleSpec | undefined;
    if (!spec?.host) continue;
    const host = qualify(spec.host, o.metadata.namespace ?? "default", input.proxy.domainSuffix);
    const rule = { object: o, spec, host };
    if (host.startsWith("*")) wildcards.push(rule);
    else exact.set(host, [...(exact.get(host) ?? []), rule]);
  }
  return { exact, wildcards };
}

/** util.GetPortLevelTrafficPolicy: a matching portLevelSettings entry replaces the policy, uninherited. */
export function portLevelPolicy(
  policy: TrafficPolicy | undefined,
  port: number,
): [TrafficPolicy | undefined, boolean] {
  if (!policy) return [undefined, false];
  const p = policy.portLevelSettings?.find((s) => s.port?.number === port);
  if (!p) return [policy, false];
  const { connectionPool, loadBalancer, outlierDetection, tls } = p as TrafficPolicy;
  return [{ connectionPool, loadBalancer, outlierDetection, tls }, true];
}

/** util.MergeSubsetTrafficPolicy + model.MergeTrafficPolicy: subset blocks override the rule's. */
export function mergeSubsetPolicy(
  original: TrafficPolicy | undefined,
  subset: TrafficPolicy | undefined,
  port: number,
): TrafficPolicy | undefined {
  const [base] = portLevelPolicy(original, port);
  if (!subset) return base;
  const [sub, hasPortLevel] = portLevelPolicy(subset, port);
  if (!base || !sub) return sub;
  const { portLevelSettings: _, ...merged } = base;
  for (const k of ["connectionPool", "outlierDetection", "loadBalancer", "tls"] as const)
    if (sub[k] !== undefined || hasPortLevel) merged[k] = sub[k];
  for (const k of ["tunnel", "proxyProtocol", "retryBudget"] as const)
    if (sub[k] !== undefined) merged[k] = sub[k];
  return merged;
}

// ---- Value conversions ----

/** A duration as written in an Istio object, in the proto3 JSON form a config dump prints. */
export function toDuration(value: unknown): Duration {
  return protoDuration(String(value)) as Duration;
}

export const num = (v: unknown): number | undefined =>
  typeof v === "number" ? v : v === undefined ? undefined : Number(v);
