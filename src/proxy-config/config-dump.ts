/**
 * An Envoy v3 admin ConfigDump (GET /config_dump?include_eds) read as istioctl reads one
 * (istio/istio istioctl/pkg/util/configdump/{wrapper,util,cluster,listener,route,endpoint,bootstrap,
 * secret}.go): sections are found by their @type (the last one wins), resources are taken from the
 * dynamic and static lists of each section. Works on any dump, a real istio-proxy's included: fields
 * these types do not list are kept, never rejected.
 *
 * Envoy prints proto field names (snake_case); proto3 JSON, istioctl's `-o json` and src/xds use
 * lowerCamelCase. Names are therefore normalised once, on reading, so every consumer sees one
 * spelling. Map keys (filter names, metadata namespaces) and Struct contents are data, not field
 * names: they are kept, only put in the sorted order proto JSON prints maps in.
 */
import { SessionAffinityError } from "../errors.js";
import type { EnvoyCluster, EnvoyClusterLoadAssignment, EnvoyLocality } from "../xds/cluster-types.js";
import type { EnvoyListener } from "../xds/listener-types.js";
import type { EnvoyRouteConfiguration } from "../xds/route-types.js";
import { goLess } from "./go-text.js";

export const SECTION_TYPES = {
  bootstrap: "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
  clusters: "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
  endpoints: "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
  listeners: "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
  routes: "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
  secrets: "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
} as const;
export type SectionName = keyof typeof SECTION_TYPES;

export type JsonObject = { readonly [field: string]: unknown };

/**
 * A resource as a dump holds it: the fields src/xds types, each possibly absent, plus whatever else
 * the proxy printed. Typed for reading convenience, not validated: a real dump can carry enum values
 * and shapes beyond what the local translation emits, so readers here check values as they use them.
 */
export type Loose<T> = Partial<T> & JsonObject;
export type DumpCluster = Loose<EnvoyCluster>;
export type DumpListener = Loose<EnvoyListener>;
export type DumpRouteConfiguration = Loose<EnvoyRouteConfiguration>;
export type DumpClusterLoadAssignment = Loose<EnvoyClusterLoadAssignment>;

/** A validated dump: its configs list, names normalised to lowerCamelCase. */
export interface ConfigDump {
  /** Where it was read from (`--file dump.json`), to name it in errors. */
  readonly source?: string;
  readonly configs: readonly JsonObject[];
}

/** An error about a dump's content, naming the dump when it came from somewhere named. */
export function dumpError(dump: ConfigDump, message: string): SessionAffinityError {
  return new SessionAffinityError("ERR_USAGE", dump.source ? `${dump.source}: ${message}` : message);
}

/** One cluster's hosts as /clusters?format=json reports them (envoy.admin.v3.Clusters). */
export interface ClusterStatuses {
  readonly clusterStatuses: readonly JsonObject[];
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Field readers with proto3's defaults: a missing or mistyped field reads as its zero value. */
export const str = (value: unknown): string => (typeof value === "string" ? value : "");
export const num = (value: unknown): number =>
  typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : 0;
export const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
export const objects = (value: unknown): readonly JsonObject[] => list(value).filter(isObject);
export const field = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), value);

/** protoc's json_name: each '_' dropped and the ASCII letter after it upper-cased. */
function jsonName(name: string): string {
  if (!name.includes("_")) return name;
  return name.replace(/_+([a-z]?)/g, (_, c: string) => c.toUpperCase());
}

/** map<string, Struct> fields: their keys and values are data throughout. */
const STRUCT_MAPS = new Set(["filterMetadata", "perFilterConfig"]);
/** map<string, message> fields: keys are data, values are messages with field names of their own. */
const MESSAGE_MAPS = new Set([
  "typedFilterMetadata",
  "typedExtensionProtocolOptions",
  "typedPerFilterConfig",
  "policies",
  "map",
  "providers",
  "requirementMap",
  "sourceCodes",
]);

/** A Struct-typed field: Node.metadata, BuildVersion.metadata, the value of a TypedStruct or WKT Any. */
function isStructField(name: string, parentField: string | undefined, typeUrl: string): boolean {
  if (name === "metadata") return parentField === "node" || parentField === "userAgentBuildVersion";
  if (name === "value") return typeUrl.endsWith(".TypedStruct") || typeUrl.includes("/google.protobuf.");
  return false;
}

/** Struct contents in proto JSON order: every object's keys sorted (a Struct's fields are a map). */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (!isObject(value)) return value;
  return Object.fromEntries(sortedEntries(value).map(([k, v]) => [k, sortedDeep(v)]));
}

/** Map keys in the order proto JSON prints them: Go's byte-wise string order. */
const sortedEntries = (value: JsonObject) =>
  Object.entries(value).sort(([a], [b]) => (a === b ? 0 : goLess(a, b) ? -1 : 1));

/**
 * A resource in proto3 JSON form, as istioctl re-marshals it: field names in lowerCamelCase, map
 * keys sorted, Struct contents kept as data (keys sorted too), everything else as it came.
 */
export function protoJson(value: unknown, parentField?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => protoJson(v, parentField));
  if (!isObject(value)) return value;
  const typeUrl = str(value["@type"]);
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      const name = key.startsWith("@") ? key : jsonName(key);
      if (STRUCT_MAPS.has(name) || isStructField(name, parentField, typeUrl)) return [name, sortedDeep(v)];
      if (MESSAGE_MAPS.has(name) && isObject(v))
        return [name, Object.fromEntries(sortedEntries(v).map(([k, m]) => [k, protoJson(m, name)]))];
      return [name, protoJson(v, name)];
    }),
  );
}

function invalid(source: string, what: string): never {
  throw new SessionAffinityError("ERR_USAGE", `${source}: not an Envoy config dump: ${what}`);
}

/** Parses JSON text; `source` names the input in the one-line error. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ");
    throw new SessionAffinityError("ERR_USAGE", `${source}: not JSON: ${reason}`, { cause: err });
  }
}

/** Validates a parsed /config_dump body and normalises its field names. */
export function toConfigDump(value: unknown, source: string): ConfigDump {
  if (!isObject(value)) invalid(source, `expected an object with "configs", got ${describe(value)}`);
  if (!("configs" in value)) invalid(source, `no "configs" list (fields: ${fieldList(value)})`);
  if (!Array.isArray(value.configs)) invalid(source, `"configs" is ${describe(value.configs)}, not a list`);
  value.configs.forEach((section, i) => {
    if (!isObject(section)) invalid(source, `configs[${i}] is ${describe(section)}, not an object`);
    if (typeof section["@type"] !== "string") invalid(source, `configs[${i}] has no "@type"`);
  });
  return { source, configs: objects(protoJson(value.configs)) };
}

/** Reads /config_dump JSON text. */
export function readConfigDump(text: string, source: string): ConfigDump {
  return toConfigDump(parseJson(text, source), source);
}

/** Whether a parsed body is an /clusters?format=json answer rather than a config dump. */
export function isClusterStatuses(value: unknown): boolean {
  if (!isObject(value) || "configs" in value) return false;
  const statuses = value.cluster_statuses ?? value.clusterStatuses;
  return Array.isArray(statuses) || Object.keys(value).length === 0;
}

/** Validates a parsed /clusters?format=json body (an empty object is Envoy's answer with no clusters). */
export function toClusterStatuses(value: unknown, source: string): ClusterStatuses {
  if (!isClusterStatuses(value))
    throw new SessionAffinityError(
      "ERR_USAGE",
      `${source}: not an Envoy /clusters?format=json answer: expected an object with "cluster_statuses"`,
    );
  return { clusterStatuses: objects(field(protoJson(value), "clusterStatuses")) };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function fieldList(value: JsonObject): string {
  const keys = Object.keys(value);
  return keys.length === 0 ? "none" : keys.slice(0, 5).join(", ") + (keys.length > 5 ? ", ..." : "");
}

/** The section of that type, or undefined; Envoy prints each once, istioctl keeps the last. */
export function findSection(dump: ConfigDump, name: SectionName): JsonObject | undefined {
  return dump.configs.findLast((c) => c["@type"] === SECTION_TYPES[name]);
}

/** The section, or istioctl's error naming the missing configuration type. */
export function section(dump: ConfigDump, name: SectionName): JsonObject {
  const found = findSection(dump, name);
  if (found) return found;
  throw dumpError(dump, `config dump has no configuration type ${SECTION_TYPES[name]}`);
}

interface Which {
  /** Also the static resources (the bootstrap's), after the dynamic ones, as istioctl lists them. */
  readonly includeStatic?: boolean;
}

function pick<T extends JsonObject>(entries: unknown, key: string, ...path: string[]): T[] {
  return objects(entries)
    .map((e) => field(e, ...path, key))
    .filter(isObject) as T[];
}

/** Active clusters: dynamic_active_clusters[].cluster, then static_clusters[].cluster. */
export function dumpClusters(dump: ConfigDump, which: Which = {}): DumpCluster[] {
  const s = section(dump, "clusters");
  return [
    ...pick<DumpCluster>(s.dynamicActiveClusters, "cluster"),
    ...(which.includeStatic === false ? [] : pick<DumpCluster>(s.staticClusters, "cluster")),
  ];
}

/** Active listeners: dynamic_listeners[].active_state.listener, then static_listeners[].listener. */
export function dumpListeners(dump: ConfigDump, which: Which = {}): DumpListener[] {
  const found = findSection(dump, "listeners");
  if (!found)
    throw dumpError(dump, `listener dump: config dump has no configuration type ${SECTION_TYPES.listeners}`);
  return [
    ...pick<DumpListener>(found.dynamicListeners, "listener", "activeState"),
    ...(which.includeStatic === false ? [] : pick<DumpListener>(found.staticListeners, "listener")),
  ];
}

/** Route configurations: dynamic_route_configs[].route_config, then static_route_configs[]. */
export function dumpRouteConfigs(dump: ConfigDump, which: Which = {}): DumpRouteConfiguration[] {
  const s = section(dump, "routes");
  return [
    ...pick<DumpRouteConfiguration>(s.dynamicRouteConfigs, "routeConfig"),
    ...(which.includeStatic === false
      ? []
      : pick<DumpRouteConfiguration>(s.staticRouteConfigs, "routeConfig")),
  ];
}

/**
 * ClusterLoadAssignments from the EndpointsConfigDump (present with ?include_eds), dynamic then
 * static; undefined when the dump has no such section, which istioctl treats as "no endpoints".
 */
export function dumpEndpointConfigs(
  dump: ConfigDump,
  which: Which = {},
): DumpClusterLoadAssignment[] | undefined {
  const s = findSection(dump, "endpoints");
  if (!s) return undefined;
  return [
    ...pick<DumpClusterLoadAssignment>(s.dynamicEndpointConfigs, "endpointConfig"),
    ...(which.includeStatic === false
      ? []
      : pick<DumpClusterLoadAssignment>(s.staticEndpointConfigs, "endpointConfig")),
  ];
}

/** The proxy's bootstrap node: id, cluster, metadata (a Struct) and user_agent_build_version. */
export interface DumpNode extends JsonObject {
  readonly id?: unknown;
  readonly cluster?: unknown;
  readonly metadata?: unknown;
  readonly userAgentBuildVersion?: unknown;
  readonly locality?: EnvoyLocality;
}

export function dumpBootstrapNode(dump: ConfigDump): DumpNode {
  const node = field(section(dump, "bootstrap"), "bootstrap", "node");
  return isObject(node) ? node : {};
}

/** One SDS secret as the dump lists it: its name, version and the Secret resource. */
export interface DumpSecret {
  readonly name: string;
  readonly versionInfo: string;
  readonly secret: JsonObject;
}

export function dumpSecrets(dump: ConfigDump): { active: DumpSecret[]; warming: DumpSecret[] } {
  const s = section(dump, "secrets");
  const read = (entries: unknown) =>
    objects(entries).map((e) => ({
      name: str(e.name),
      versionInfo: str(e.versionInfo),
      secret: isObject(e.secret) ? e.secret : {},
    }));
  return { active: read(s.dynamicActiveSecrets), warming: read(s.dynamicWarmingSecrets) };
}
