/**
 * istioctl's two endpoint tables, reproduced from istio/istio
 * istioctl/pkg/writer/envoy/configdump/endpoint.go (`proxy-config eds` and the ENDPOINTS section of
 * `all`, read from the config dump's EndpointsConfigDump) and
 * istioctl/pkg/writer/envoy/clusters/clusters.go (`proxy-config endpoint`, which istioctl reads from
 * /clusters?format=json: that answer gives exact output; a config dump stands in for it with the
 * EDS health of each host and no outlier state).
 */
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL } from "../xds/cluster-types.js";
import {
  type ClusterStatuses,
  type ConfigDump,
  dumpEndpointConfigs,
  field,
  isObject,
  type JsonObject,
  num,
  objects,
  str,
} from "./config-dump.js";
import { equalFold, goJsonIndent, goLess, goSortSlice, tabwrite } from "./go-text.js";
import { resourcesJson, row, type SubsetKey, safeSubsetKey, subsetKeyLess, WIDE } from "./tables.js";

export interface EndpointFilter {
  /** For `eds`, `ADDRESS:PORT`; for `endpoints`, the address alone (each as istioctl compares it). */
  readonly address?: string;
  readonly port?: number;
  /** The cluster's exact name (case-insensitive). */
  readonly cluster?: string;
  /** HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED or UNKNOWN (case-insensitive). */
  readonly status?: string;
}

const HEALTH = ["UNKNOWN", "HEALTHY", "UNHEALTHY", "DRAINING", "TIMEOUT", "DEGRADED"];

/** HealthStatus by name; `unknownNumber` is what Go prints for a number outside the enum. */
function healthName(value: unknown, unknownNumber: (n: number) => string): string {
  if (typeof value === "number") return HEALTH[value] ?? unknownNumber(value);
  return typeof value === "string" && HEALTH.includes(value) ? value : "UNKNOWN";
}

/** An EDS endpoint's addresses as the eds table writes them: `ip:port`, a pipe path, `envoy://...`. */
function edsAddresses(ep: JsonObject): string[] {
  const endpoint = field(ep, "endpoint");
  const addresses = [
    field(endpoint, "address"),
    ...objects(field(endpoint, "additionalAddresses")).map((a) => a.address),
  ];
  return addresses.map((a) => {
    const socket = field(a, "socketAddress");
    if (isObject(socket)) return `${str(socket.address)}:${num(socket.portValue)}`;
    const pipe = field(a, "pipe");
    if (isObject(pipe)) return str(pipe.path);
    const internal = field(a, "envoyInternalAddress");
    if (isObject(internal) && typeof internal.serverListenerName === "string")
      return `envoy://${internal.serverListenerName}/${str(internal.endpointId)}`;
    return "unknown";
  });
}

function edsMatches(filter: EndpointFilter, ep: JsonObject, cluster: string): boolean {
  const { address, status } = filter;
  if (address && !edsAddresses(ep).some((a) => equalFold(a, address))) return false;
  if (filter.port && num(field(ep, "endpoint", "address", "socketAddress", "portValue")) !== filter.port)
    return false;
  if (filter.cluster && !equalFold(cluster, filter.cluster)) return false;
  return (
    !status ||
    equalFold(
      healthName(ep.healthStatus, () => ""),
      status,
    )
  );
}

/** The endpoint configs with their endpoints filtered; those left with none are dropped. */
function sortedEndpointConfigs(dump: ConfigDump, filter: EndpointFilter): JsonObject[] {
  const configs: { cla: JsonObject; key: SubsetKey }[] = [];
  for (const cla of dumpEndpointConfigs(dump) ?? []) {
    // istioctl unpacks each Any as a ClusterLoadAssignment and skips what does not unpack.
    if (typeof cla["@type"] === "string" && cla["@type"] !== CLUSTER_LOAD_ASSIGNMENT_TYPE_URL) continue;
    const cluster = str(cla.clusterName);
    let kept = 0;
    const endpoints = objects(cla.endpoints).map((llb) => {
      const lbEndpoints = objects(llb.lbEndpoints).filter((ep) => edsMatches(filter, ep, cluster));
      kept += lbEndpoints.length;
      // proto3 JSON leaves out an empty list.
      const rest = Object.entries(llb).filter(([k]) => k !== "lbEndpoints" || lbEndpoints.length > 0);
      return Object.fromEntries(rest.map(([k, v]) => [k, k === "lbEndpoints" ? lbEndpoints : v]));
    });
    if (kept > 0) configs.push({ cla: { ...cla, endpoints }, key: safeSubsetKey(cluster) });
  }
  goSortSlice(configs, (a, b) => subsetKeyLess(a.key, b.key));
  return configs.map((c) => c.cla);
}

function localityName(locality: unknown): string {
  if (!isObject(locality)) return "";
  const [region, zone, subZone] = [str(locality.region), str(locality.zone), str(locality.subZone)];
  if (zone === "") return region;
  return subZone === "" ? `${region}/${zone}` : `${region}/${zone}/${subZone}`;
}

/** `proxy-config eds`, and the ENDPOINTS section of `all` (`withNames`: `endpoint/` prefix). */
export function edsTable(dump: ConfigDump, filter: EndpointFilter = {}, withNames = false): string {
  let text = row("NAME", "STATUS", "LOCALITY", "CLUSTER");
  for (const cla of sortedEndpointConfigs(dump, filter)) {
    for (const llb of objects(cla.endpoints)) {
      for (const ep of objects(llb.lbEndpoints)) {
        const address = edsAddresses(ep).join(",");
        const status = healthName(ep.healthStatus, String);
        text += row(
          withNames ? `endpoint/${address}` : address,
          status,
          localityName(llb.locality),
          str(cla.clusterName),
        );
      }
    }
  }
  return tabwrite(text, WIDE);
}

/** `proxy-config eds -o json`: the endpoint configs, filtered, in the table's order. */
export function edsJson(dump: ConfigDump, filter: EndpointFilter = {}): string {
  return resourcesJson(sortedEndpointConfigs(dump, filter));
}

interface HostRow {
  readonly address: string;
  readonly port: number;
  readonly cluster: string;
  readonly status: string;
  readonly failedOutlierCheck: boolean;
}

/** A host's address as /clusters-based istioctl writes it: the IP alone, `unix://path`, `envoy://...`. */
function hostAddress(address: unknown): string {
  const socket = field(address, "socketAddress");
  if (isObject(socket)) return str(socket.address);
  const pipe = field(address, "pipe");
  if (isObject(pipe)) return `unix://${str(pipe.path)}`;
  const internal = field(address, "envoyInternalAddress");
  if (isObject(internal) && typeof internal.serverListenerName === "string")
    return `envoy://${internal.serverListenerName}/${str(internal.endpointId)}`;
  return "unknown";
}

function hostRow(cluster: string, address: unknown, health: unknown, failed: boolean): HostRow {
  return {
    address: hostAddress(address),
    port: num(field(address, "socketAddress", "portValue")),
    cluster,
    status: healthName(health, () => ""),
    failedOutlierCheck: failed,
  };
}

const statusRow = (cluster: JsonObject, h: JsonObject): HostRow =>
  hostRow(
    str(cluster.name),
    h.address,
    field(h, "healthStatus", "edsHealthStatus"),
    field(h, "healthStatus", "failedOutlierCheck") === true,
  );

function hostRows(source: ClusterStatuses | ConfigDump): HostRow[] {
  if ("clusterStatuses" in source)
    return source.clusterStatuses.flatMap((c) => objects(c.hostStatuses).map((h) => statusRow(c, h)));
  // The EDS dump knows each host's EDS health but nothing of outlier ejection, so OUTLIER CHECK is OK.
  return (dumpEndpointConfigs(source) ?? []).flatMap((cla) =>
    objects(cla.endpoints).flatMap((llb) =>
      objects(llb.lbEndpoints).map((ep) =>
        hostRow(str(cla.clusterName), field(ep, "endpoint", "address"), ep.healthStatus, false),
      ),
    ),
  );
}

function hostMatches(filter: EndpointFilter, h: HostRow): boolean {
  if (filter.address && !equalFold(h.address, filter.address)) return false;
  if (filter.port && h.port !== filter.port) return false;
  if (filter.cluster && !equalFold(h.cluster, filter.cluster)) return false;
  return !filter.status || equalFold(h.status, filter.status);
}

/**
 * `proxy-config endpoints`: istioctl reads /clusters?format=json for it; given that answer this is
 * exact. Given a config dump instead, the hosts come from its EDS section with OUTLIER CHECK "OK".
 */
export function endpointsTable(source: ClusterStatuses | ConfigDump, filter: EndpointFilter = {}): string {
  const hosts = hostRows(source).filter((h) => hostMatches(filter, h));
  goSortSlice(hosts, (a, b) => {
    if (a.address !== b.address) return goLess(a.address, b.address);
    if (a.port !== b.port) return a.port < b.port;
    return goLess(a.cluster, b.cluster);
  });
  let text = row("ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER");
  for (const h of hosts) {
    const endpoint = h.port !== 0 ? `${h.address}:${h.port}` : h.address;
    text += row(endpoint, h.status, h.failedOutlierCheck ? "FAILED" : "OK", h.cluster);
  }
  return tabwrite(text, WIDE);
}

/**
 * `proxy-config endpoints -o json`: from /clusters, every cluster status with a matching host (all
 * its hosts, as istioctl prints them); from a config dump, the filtered endpoint configs.
 */
export function endpointsJson(source: ClusterStatuses | ConfigDump, filter: EndpointFilter = {}): string {
  if (!("clusterStatuses" in source)) return edsJson(source, filter);
  const statuses = source.clusterStatuses.filter((c) =>
    objects(c.hostStatuses).some((h) => hostMatches(filter, statusRow(c, h))),
  );
  return `${goJsonIndent(statuses)}\n`;
}
