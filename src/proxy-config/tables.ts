/**
 * istioctl's `proxy-config` tables and `-o json` output for any Envoy ConfigDump, reproduced from
 * istio/istio istioctl/pkg/writer/envoy/configdump/{cluster,listener,route}.go and
 * istioctl/pkg/proxyconfig/proxyconfig.go (which writer each command calls, with which filters):
 * the same rows, row order, columns, cell texts and text/tabwriter layout. Endpoint tables are in
 * endpoints.ts, the whole-proxy summary (`all`, with bootstrap and secrets) in summary.ts.
 */
import {
  type ConfigDump,
  type DumpCluster,
  type DumpListener,
  type DumpRouteConfiguration,
  dumpClusters,
  dumpError,
  dumpListeners,
  dumpRouteConfigs,
  field,
  isObject,
  type JsonObject,
  list,
  num,
  objects,
  str,
} from "./config-dump.js";
import { equalFold, goAtoi, goJsonIndent, goLess, goSortSlice, tabwrite } from "./go-text.js";

/** `Init(w, 0, 8, 5, ' ', 0)`: the cluster, route and endpoint writers. */
export const WIDE = { minwidth: 0, padding: 5 } as const;
/** `Init(w, 0, 8, 1, ' ', 0)`: the listener and bootstrap writers. */
export const NARROW = { minwidth: 0, padding: 1 } as const;

export const row = (...cells: readonly (string | number | bigint)[]): string => `${cells.join("\t")}\n`;

/** What `-o json` prints: each resource re-marshalled as its message, so without the Any's @type. */
export function resourcesJson(resources: readonly JsonObject[]): string {
  const bare = resources.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== "@type")));
  return `${goJsonIndent(bare)}\n`;
}

// ---- cluster names (pilot/pkg/model/service.go ParseSubsetKey) ----

export interface SubsetKey {
  readonly direction: string;
  readonly subset: string;
  readonly host: string;
  readonly port: bigint;
}

/** `direction|port|subset|host`, or the DNS SRV form `outbound_.port_.subset_.host`. */
export function parseSubsetKey(name: string): SubsetKey {
  const sep = name.startsWith("outbound_") || name.startsWith("inbound_") ? "_." : "|";
  const parts: string[] = [];
  let rest = name;
  while (parts.length < 3) {
    const at = rest.indexOf(sep);
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + sep.length);
  }
  const [direction = "", port, subset = ""] = parts;
  return {
    direction,
    port: port === undefined ? 0n : goAtoi(port).value,
    subset,
    host: parts.length === 3 && !rest.includes(sep) ? rest : "",
  };
}

/** istioctl parses only names with at least three '|'; any other name is its own host. */
export function safeSubsetKey(name: string): SubsetKey {
  return name.split("|").length > 3
    ? parseSubsetKey(name)
    : { direction: "", subset: "", host: name, port: 0n };
}

/** By host, then subset, then port, then direction (clusters and endpoint configs alike). */
export function subsetKeyLess(a: SubsetKey, b: SubsetKey): boolean {
  if (a.host !== b.host) return goLess(a.host, b.host);
  if (a.subset !== b.subset) return goLess(a.subset, b.subset);
  if (a.port !== b.port) return a.port < b.port;
  return goLess(a.direction, b.direction);
}

/** `<name>.<namespace>` of the Istio object in `filter_metadata.istio.config`, as istioctl shows it. */
export function describeManagement(metadata: unknown): string {
  const istio = field(metadata, "filterMetadata", "istio");
  if (!isObject(istio) || !("config" in istio)) return "";
  const path = str(istio.config);
  if (!path.startsWith("/apis/networking.istio.io/")) return "<unknown>";
  const pieces = path.split("/");
  return pieces.length === 8 ? `${pieces[7]}.${pieces[5]}` : "";
}

// ---- clusters ----

export interface ClusterFilter {
  /** A substring of the cluster name. */
  readonly fqdn?: string;
  /** `|PORT|` in the cluster name; 0 or absent for any. */
  readonly port?: number;
  readonly subset?: string;
  readonly direction?: string;
}

function clusterMatches(filter: ClusterFilter, name: string): boolean {
  if (filter.fqdn && !name.includes(filter.fqdn)) return false;
  if (filter.direction && !name.includes(filter.direction)) return false;
  if (filter.subset && !name.includes(filter.subset)) return false;
  return !filter.port || name.includes(`|${filter.port}|`);
}

const CLUSTER_TYPES = ["STATIC", "STRICT_DNS", "LOGICAL_DNS", "EDS", "ORIGINAL_DST"];

/** Cluster.type by name; a custom cluster_type (or an unknown name) reads as the default, STATIC. */
function clusterType(cluster: DumpCluster): string {
  const t: unknown = cluster.type;
  if (typeof t === "number") return CLUSTER_TYPES[t] ?? String(t);
  return typeof t === "string" && CLUSTER_TYPES.includes(t) ? t : "STATIC";
}

function sortedClusters(dump: ConfigDump, filter: ClusterFilter): DumpCluster[] {
  const clusters = dumpClusters(dump).map((c) => ({ c, key: safeSubsetKey(str(c.name)) }));
  if (clusters.length === 0) throw dumpError(dump, "no clusters found");
  goSortSlice(clusters, (a, b) => subsetKeyLess(a.key, b.key));
  return clusters.map((x) => x.c).filter((c) => clusterMatches(filter, str(c.name)));
}

/** `proxy-config clusters`; `withNames` adds `all`'s NAME column (`cluster/<name>`). */
export function clustersTable(dump: ConfigDump, filter: ClusterFilter = {}, withNames = false): string {
  const head = ["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"];
  let text = row(...(withNames ? ["NAME", ...head] : head));
  for (const c of sortedClusters(dump, filter)) {
    const name = str(c.name);
    const type = clusterType(c);
    const rule = describeManagement(c.metadata);
    if (name.split("|").length > 3) {
      const k = parseSubsetKey(name);
      const cells = [k.host, k.port, k.subset || "-", k.direction, type, rule];
      text += withNames ? row(`cluster/${name}`, ...cells) : row(...cells);
    } else if (withNames && name !== "") {
      text += row(`cluster/${name}`, `cluster/${name}`, "-", "-", "-", type, rule);
    } else {
      text += row(name, "-", "-", "-", type, rule);
    }
  }
  return tabwrite(text, WIDE);
}

/** `proxy-config clusters -o json`: the filtered clusters, in the table's order. */
export function clustersJson(dump: ConfigDump, filter: ClusterFilter = {}): string {
  return resourcesJson(sortedClusters(dump, filter));
}

// ---- listeners ----

export interface ListenerFilter {
  /** The listener's address or one of its additional addresses (case-insensitive). */
  readonly address?: string;
  readonly port?: number;
  /** HTTP, TCP, HTTP+TCP or UNKNOWN (case-insensitive). */
  readonly type?: string;
}

const HCM = "envoy.filters.network.http_connection_manager";
const TCP_PROXY = "envoy.filters.network.tcp_proxy";

function filterChains(l: DumpListener): JsonObject[] {
  return [...objects(l.filterChains), ...(isObject(l.defaultFilterChain) ? [l.defaultFilterChain] : [])];
}

/** istioctl looks for "BlackHoleCluster" in the TCP proxy's serialized bytes: any string inside. */
function mentionsBlackHole(value: unknown): boolean {
  if (typeof value === "string") return value.includes("BlackHoleCluster");
  if (Array.isArray(value)) return value.some(mentionsBlackHole);
  return isObject(value) && Object.values(value).some(mentionsBlackHole);
}

export function listenerType(l: DumpListener): string {
  let http = 0;
  let tcp = 0;
  for (const chain of filterChains(l)) {
    for (const f of objects(chain.filters)) {
      if (f.name === HCM) http++;
      else if (f.name === TCP_PROXY && !mentionsBlackHole(f.typedConfig)) tcp++;
    }
  }
  if (http > 0) return tcp === 0 ? "HTTP" : "HTTP+TCP";
  return tcp > 0 ? "TCP" : "UNKNOWN";
}

function listenerAddress(l: DumpListener): string {
  const socket = field(l.address, "socketAddress");
  if (isObject(socket)) return str(socket.address);
  const pipe = field(l.address, "pipe");
  return isObject(pipe) ? str(pipe.path) : "";
}

function additionalAddresses(l: DumpListener): string[] {
  return objects(l.additionalAddresses).map((a) => str(field(a, "address", "socketAddress", "address")));
}

const listenerPort = (l: DumpListener): number => num(field(l.address, "socketAddress", "portValue"));

function listenerMatches(filter: ListenerFilter, l: DumpListener): boolean {
  const wanted = filter.address;
  if (wanted && ![...additionalAddresses(l), listenerAddress(l)].some((a) => equalFold(a, wanted)))
    return false;
  if (filter.port && listenerPort(l) !== filter.port) return false;
  return !filter.type || equalFold(listenerType(l), filter.type);
}

const PROTOCOL_DESCRIPTIONS: Readonly<Record<string, readonly string[]>> = {
  "App: HTTP TLS": ["http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"],
  "App: Istio HTTP Plain": ["istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"],
  "App: TCP TLS": ["istio-peer-exchange", "istio"],
  "App: HTTP": ["http/1.0", "http/1.1", "h2c"],
};

/** A filter chain's match (SNI, transport, ALPN, destination port and prefixes) or ALL. */
export function describeChainMatch(chainMatch: unknown): string {
  const m = isObject(chainMatch) ? chainMatch : {};
  const descrs: string[] = [];
  const sni = list(m.serverNames).map(str);
  if (sni.length > 0) descrs.push(`SNI: ${sni.join(",")}`);
  if (str(m.transportProtocol)) descrs.push(`Trans: ${str(m.transportProtocol)}`);
  const alpn = list(m.applicationProtocols).map(str);
  if (alpn.length > 0) {
    const known = Object.entries(PROTOCOL_DESCRIPTIONS).find(
      ([, p]) => p.length === alpn.length && p.every((x, i) => x === alpn[i]),
    );
    descrs.push(known ? known[0] : `App: ${alpn.join(",")}`);
  }
  const port =
    m.destinationPort === undefined || m.destinationPort === null ? "" : `:${num(m.destinationPort)}`;
  const ranges = objects(m.prefixRanges);
  if (ranges.length > 0) {
    descrs.push(`Addr: ${ranges.map((r) => `${str(r.addressPrefix)}/${num(r.prefixLen)}`).join(",")}${port}`);
  } else if (port) {
    descrs.push(`Addr: *${port}`);
  }
  return descrs.length === 0 ? "ALL" : descrs.join("; ");
}

/** RouteMatch as istioctl abbreviates it: `prefix*`, `PathPrefix:p`, the path, `regex r`; headers ignored. */
export function describeMatch(match: unknown): string {
  const m = isObject(match) ? match : {};
  const conds: string[] = [];
  if (str(m.prefix)) conds.push(`${str(m.prefix)}*`);
  if (str(m.pathSeparatedPrefix)) conds.push(`PathPrefix:${str(m.pathSeparatedPrefix)}`);
  if (str(m.path)) conds.push(str(m.path));
  if (isObject(m.safeRegex)) conds.push(`regex ${str(m.safeRegex.regex)}`);
  return conds.join(" ");
}

const clusterOrName = (cluster: string) => (cluster.includes("Cluster") ? cluster : `Cluster: ${cluster}`);

function describeInlineRoutes(config: JsonObject): string {
  const hosts = objects(config.virtualHosts);
  const only = hosts[0];
  const routes = objects(only?.routes);
  const cluster = field(routes[0], "route", "cluster");
  const domains = list(only?.domains);
  if (
    hosts.length === 1 &&
    domains.length === 1 &&
    domains[0] === "*" &&
    routes.length === 1 &&
    str(field(routes[0], "match", "prefix")) === "/" &&
    typeof cluster === "string"
  )
    return clusterOrName(cluster);
  const described = hosts.map((vh) => {
    const d = list(vh.domains).map(str);
    const matches = objects(vh.routes)
      .map((r) => describeMatch(r.match))
      .join(", ");
    const joined = d.length === 1 && d[0] === "*" ? "" : d.join("/");
    return joined === "" ? matches : `${joined} ${matches}`;
  });
  return `Inline Route: ${described.join("; ")}`;
}

/** Where a filter chain sends traffic: its RDS route, inline routes, TCP cluster, or neither. */
export function describeFilterChainDestination(filters: unknown): string {
  for (const f of objects(filters)) {
    const config = isObject(f.typedConfig) ? f.typedConfig : {};
    if (f.name === HCM) {
      if (isObject(config.routeConfig)) return describeInlineRoutes(config.routeConfig);
      const rds = str(field(config, "rds", "routeConfigName"));
      return rds ? `Route: ${rds}` : "HTTP";
    }
    if (f.name === TCP_PROXY && !mentionsBlackHole(config)) return clusterOrName(str(config.cluster));
  }
  return "Non-HTTP/Non-TCP";
}

function retrievedListeners(dump: ConfigDump): DumpListener[] {
  const listeners = dumpListeners(dump);
  if (listeners.length === 0) throw dumpError(dump, "no listeners found");
  return listeners;
}

/** `proxy-config listeners` (istioctl's default verbose form); `withNames` adds `all`'s NAME column. */
export function listenersTable(dump: ConfigDump, filter: ListenerFilter = {}, withNames = false): string {
  const listeners = retrievedListeners(dump)
    .filter((l) => listenerMatches(filter, l))
    .map((l) => ({ l, port: listenerPort(l), address: listenerAddress(l), type: listenerType(l) }));
  goSortSlice(listeners, (a, b) => {
    if (a.port !== b.port) return a.port < b.port;
    if (a.address !== b.address) return goLess(a.address, b.address);
    return goLess(a.type, b.type);
  });
  let text = row(...(withNames ? ["NAME"] : []), "ADDRESSES", "PORT", "MATCH", "DESTINATION");
  for (const { l, port, address } of listeners) {
    const addresses = [address, ...additionalAddresses(l)].join(",");
    const chains = filterChains(l).map((fc) => ({
      destination: describeFilterChainDestination(fc.filters),
      match: describeChainMatch(fc.filterChainMatch),
    }));
    goSortSlice(chains, (a, b) => goLess(b.destination, a.destination));
    for (const c of chains) {
      const cells = [addresses, port, c.match, c.destination];
      text += withNames ? row(`listener/${str(l.name)}`, ...cells) : row(...cells);
    }
  }
  return tabwrite(text, NARROW);
}

/** `proxy-config listeners -o json`: the filtered listeners in the dump's order (istioctl does not sort). */
export function listenersJson(dump: ConfigDump, filter: ListenerFilter = {}): string {
  return resourcesJson(retrievedListeners(dump).filter((l) => listenerMatches(filter, l)));
}

// ---- routes ----

export interface RouteFilter {
  /** The route configuration's exact name. */
  readonly name?: string;
}

/** istioctl sorts route configurations by numeric name, and leaves any pair with a non-number alone. */
function sortedRoutes(dump: ConfigDump, filter: RouteFilter): DumpRouteConfiguration[] {
  const routes = dumpRouteConfigs(dump);
  if (routes.length === 0) throw dumpError(dump, "no routes found");
  goSortSlice(routes, (a, b) => {
    const i = goAtoi(str(a.name));
    const j = goAtoi(str(b.name));
    return i.ok && j.ok && i.value < j.value;
  });
  return routes.filter((r) => !filter.name || str(r.name) === filter.name);
}

/** The shortest useful list of a virtual host's domains: no ports, no expanded service names, two at most. */
export function describeRouteDomains(domains: readonly string[]): string {
  if (domains.length <= 1) return domains[0] ?? "";
  const withoutPort = domains.filter(
    (d) => !d.includes(":") || (d.split(":").length - 1 > 2 && d.endsWith("]")),
  );
  const unique = new Set(withoutPort);
  const expanded = (h: string) =>
    [".svc.cluster.local", ".svc"].some((s) => h.endsWith(s) && unique.has(h.slice(0, -s.length)));
  const kept = withoutPort.filter((h) => !expanded(h));
  if (kept.length > 2) return `${kept.slice(0, 2).join(", ")} + ${kept.length - 2} more...`;
  return kept.join(", ");
}

/** `proxy-config routes` (istioctl's default verbose form); `withNames` prefixes `route/`. */
export function routesTable(dump: ConfigDump, filter: RouteFilter = {}, withNames = false): string {
  let text = row("NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE");
  for (const rc of sortedRoutes(dump, filter)) {
    const name = withNames ? `route/${str(rc.name)}` : str(rc.name);
    for (const vh of objects(rc.virtualHosts)) {
      const domains = describeRouteDomains(list(vh.domains).map(str));
      const routes = objects(vh.routes);
      for (const r of routes) {
        if (field(r, "route", "cluster") === "PassthroughCluster") continue;
        text += row(name, str(vh.name), domains, describeMatch(r.match), describeManagement(r.metadata));
      }
      if (routes.length === 0) text += row(name, str(vh.name), domains, "/*", "404");
    }
  }
  return tabwrite(text, WIDE);
}

/** `proxy-config routes -o json`: the filtered route configurations in the table's order. */
export function routesJson(dump: ConfigDump, filter: RouteFilter = {}): string {
  return resourcesJson(sortedRoutes(dump, filter));
}
