/**
 * A proxy's configuration as `explain` reads it: every listener, route configuration, cluster and
 * load assignment of a config dump, each with the JSON path where the dump holds it, the hosts'
 * health (EDS, and ejections when /clusters?format=json is given) and the proxy's own facts
 * (Istio and Envoy versions from the bootstrap node, its kind from the node id). Paths use proto3
 * JSON names (lowerCamelCase, as `istioctl proxy-config -o json` prints them), whichever spelling
 * the dump came in.
 */
import { SessionAffinityError } from "../errors.js";
import {
  type ClusterStatuses,
  type ConfigDump,
  type DumpCluster,
  type DumpClusterLoadAssignment,
  type DumpListener,
  type DumpRouteConfiguration,
  dumpBootstrapNode,
  field,
  findSection,
  isObject,
  type JsonObject,
  num,
  objects,
  SECTION_TYPES,
  str,
} from "../proxy-config/config-dump.js";
import type { HealthStatus } from "../xds/cluster-types.js";
import type { HostState, Located, ProxyFacts } from "./context.js";

export interface ProxyView {
  readonly source: string;
  readonly proxy: ProxyFacts;
  readonly listeners: readonly Located<DumpListener>[];
  readonly routeConfigs: ReadonlyMap<string, Located<DumpRouteConfiguration>>;
  readonly clusters: ReadonlyMap<string, Located<DumpCluster>>;
  /** By cluster (EDS service) name. */
  readonly assignments: ReadonlyMap<string, Located<DumpClusterLoadAssignment>>;
  /** Ejected hosts by cluster, from /clusters?format=json ("cluster address"); empty without it. */
  readonly ejected: ReadonlySet<string>;
  /** Whether the dump carried EDS (`?include_eds`); without it no host is known. */
  readonly hasEndpoints: boolean;
}

/** Each entry of a section's list with its path: `configs[i].<list>[j].<inner>`. */
function located<T>(
  dump: ConfigDump,
  type: keyof typeof SECTION_TYPES,
  lists: readonly [string, string[]][],
) {
  const out: Located<T>[] = [];
  const index = dump.configs.findLastIndex((c) => c["@type"] === SECTION_TYPES[type]);
  if (index < 0) return out;
  const section = dump.configs[index] as JsonObject;
  for (const [list, inner] of lists) {
    objects(section[list]).forEach((entry, j) => {
      const value = field(entry, ...inner);
      if (isObject(value))
        out.push({ value: value as T, path: `configs[${index}].${list}[${j}].${inner.join(".")}` });
    });
  }
  return out;
}

function istioVersionOf(metadata: unknown): string | undefined {
  const v = field(metadata, "ISTIO_VERSION");
  return typeof v === "string" && v !== "" ? v : undefined;
}

function envoyVersionOf(node: JsonObject): string | undefined {
  const v = field(node, "userAgentBuildVersion", "version");
  if (!isObject(v)) return undefined;
  return `${num(v.majorNumber)}.${num(v.minorNumber)}.${num(v.patch)}`;
}

/** `router~…` is a gateway (or a waypoint, which pilot-agent also runs as router; its labels say which). */
function kindOf(node: JsonObject): ProxyFacts["kind"] {
  const type = str(node.id).split("~")[0];
  if (type === "sidecar") return "sidecar";
  if (type !== "router") return "unknown";
  const labels = field(node.metadata, "LABELS");
  const waypoint =
    isObject(labels) &&
    (labels["gateway.istio.io/managed"] === "istio.io-mesh-controller" ||
      labels["gateway.networking.k8s.io/gateway-class-name"] === "istio-waypoint");
  return waypoint ? "waypoint" : "gateway";
}

export function proxyView(
  dump: ConfigDump,
  statuses: ClusterStatuses | undefined,
  replicas?: number,
): ProxyView {
  const node = findSection(dump, "bootstrap") ? dumpBootstrapNode(dump) : {};
  const istioVersion = istioVersionOf(node.metadata);
  const envoyVersion = envoyVersionOf(node);
  const proxy: ProxyFacts = {
    kind: kindOf(node),
    ...(istioVersion ? { istioVersion } : {}),
    ...(envoyVersion ? { envoyVersion } : {}),
    ...(replicas === undefined ? {} : { replicas }),
  };
  const listeners = located<DumpListener>(dump, "listeners", [
    ["dynamicListeners", ["activeState", "listener"]],
    ["staticListeners", ["listener"]],
  ]);
  const routes = located<DumpRouteConfiguration>(dump, "routes", [
    ["dynamicRouteConfigs", ["routeConfig"]],
    ["staticRouteConfigs", ["routeConfig"]],
  ]);
  const clusters = located<DumpCluster>(dump, "clusters", [
    ["dynamicActiveClusters", ["cluster"]],
    ["staticClusters", ["cluster"]],
  ]);
  const endpoints = located<DumpClusterLoadAssignment>(dump, "endpoints", [
    ["dynamicEndpointConfigs", ["endpointConfig"]],
    ["staticEndpointConfigs", ["endpointConfig"]],
  ]);
  if (listeners.length === 0 && clusters.length === 0)
    throw new SessionAffinityError(
      "ERR_USAGE",
      `${dump.source ?? "config dump"}: holds no listeners and no clusters`,
    );
  const ejected = new Set<string>();
  for (const c of statuses?.clusterStatuses ?? []) {
    for (const h of objects(c.hostStatuses)) {
      if (field(h, "healthStatus", "failedOutlierCheck") !== true) continue;
      const s = field(h, "address", "socketAddress");
      const address = str(field(s, "address"));
      ejected.add(
        `${str(c.name)} ${address.includes(":") ? `[${address}]` : address}:${num(field(s, "portValue"))}`,
      );
    }
  }
  return {
    source: dump.source ?? "config dump",
    proxy,
    listeners,
    routeConfigs: new Map(routes.map((r) => [str(r.value.name), r])),
    clusters: new Map(clusters.map((c) => [str(c.value.name), c])),
    assignments: new Map(endpoints.map((e) => [str(e.value.clusterName), e])),
    ejected,
    hasEndpoints: findSection(dump, "endpoints") !== undefined,
  };
}

const HEALTH: ReadonlySet<string> = new Set([
  "UNKNOWN",
  "HEALTHY",
  "UNHEALTHY",
  "DRAINING",
  "TIMEOUT",
  "DEGRADED",
]);

/** The hosts of a cluster's load assignment, every priority, with their paths and health. */
export function hostsOfAssignment(
  view: ProxyView,
  clusterName: string,
  assignment: Located<DumpClusterLoadAssignment> | undefined,
): HostState[] {
  const hosts: HostState[] = [];
  objects(assignment?.value.endpoints).forEach((group, g) => {
    const locality = isObject(group.locality) ? group.locality : {};
    objects(group.lbEndpoints).forEach((lb, e) => {
      const s = field(lb, "endpoint", "address", "socketAddress");
      if (!isObject(s)) return;
      const ip = str(s.address);
      const address = `${ip.includes(":") ? `[${ip}]` : ip}:${num(s.portValue)}`;
      const health = str(lb.healthStatus);
      hosts.push({
        address,
        weight: num(lb.loadBalancingWeight) || 1,
        health: (HEALTH.has(health) ? health : "UNKNOWN") as HealthStatus,
        failedOutlierCheck: view.ejected.has(`${clusterName} ${address}`),
        locality: {
          ...(str(locality.region) ? { region: str(locality.region) } : {}),
          ...(str(locality.zone) ? { zone: str(locality.zone) } : {}),
          ...(str(locality.subZone) ? { subZone: str(locality.subZone) } : {}),
        },
        priority: num(group.priority),
        path: `${assignment?.path}.endpoints[${g}].lbEndpoints[${e}]`,
      });
    });
  });
  return hosts;
}
