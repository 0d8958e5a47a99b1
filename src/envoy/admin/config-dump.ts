/**
 * Envoy's /config_dump (envoy.admin.v3.ConfigDump) for the emulated gateway, with its query
 * parameters as envoy: source/server/admin/config_dump_handler.cc reads them (cases from
 * test/server/admin/config_dump_handler_test.cc):
 * - one dump per component, in the config tracker's key order: bootstrap, clusters, the endpoints
 *   (key "endpoint", only with `include_eds` and an active cluster), listeners, route_scopes, routes,
 *   secrets (api/envoy/admin/v3/config_dump.proto lists the same order);
 * - `resource`: the elements of the first dump's repeated field of that proto name, each packed as an
 *   Any; 404 when no dump has the field, 400 when it is not repeated;
 * - `mask`: a FieldMask applied to each dump, dropping those it does not fit (400 if none); with
 *   `resource`, applied to each element, reaching into its packed resource (400 if it does not fit);
 * - `name_regex`: keeps the resources whose name fully matches (RE2); an invalid one is a 400.
 * Empty `resource`, `mask` and `name_regex` count as absent (Utility::nonEmptyQueryParam).
 *
 * What the gateway is and is not:
 * - every resource came over ADS; the bootstrap holds only what follows from the identity (node,
 *   admin address, ADS sources). Istio's static clusters and listeners (xds-grpc, sds-grpc, agent,
 *   prometheus_stats, ...) are not emulated, nor is ads_config's gRPC service naming xds-grpc;
 * - resources arrive whole with a version, as with state-of-the-world ADS (api_type GRPC). Istio 1.30
 *   defaults to DELTA_GRPC (ISTIO_DELTA_XDS), where istiod sends no per-resource version and Envoy's
 *   dynamic entries carry none;
 * - no TLS and no scoped RDS: the secrets and scoped routes dumps are empty, as Envoy prints them
 *   then; ECDS is dumped only when configured, so never here;
 * - nothing warming or draining: each pushed cluster is active (istiod sends every EDS cluster its
 *   assignment) and a removed listener is gone at once;
 * - endpoints carry the EDS health only: Envoy would show an outlier-ejected host UNHEALTHY.
 */
import { RE2JS, RE2JSSyntaxException } from "re2js";
import type {
  EnvoyCluster,
  EnvoyClusterLoadAssignment,
  EnvoyLbEndpoint,
  EnvoyLocality,
  HealthStatus,
} from "../../xds/cluster-types.js";
import { envoyTimestamp } from "../resource-versions.js";
import {
  fieldMaskDebugString,
  maskFits,
  messageFields,
  parseFieldMask,
  trimMessage,
  trimResource,
  typeUrl,
} from "./field-mask.js";
import { envoyNode } from "./identity.js";
import type { AppliedSnapshot, ProxyIdentity, ResourceUpdate } from "./views.js";

export interface ConfigDumpOptions {
  /** `?include_eds`: Envoy only checks that the parameter is present, whatever its value. */
  readonly includeEds?: boolean;
  /** `?resource=`: a proto field name of one of the dumps, e.g. "dynamic_active_clusters". */
  readonly resource?: string;
  /** `?mask=`: comma-separated FieldMask paths of proto field names. */
  readonly mask?: string;
  /** `?name_regex=`: RE2, matched against the whole resource name. */
  readonly nameRegex?: string;
}

type Json = Record<string, unknown>;

/** envoy.admin.v3.ConfigDump in proto3 JSON: `configs` is absent when there are none. */
export interface ConfigDumpBody {
  readonly configs?: readonly Json[];
}

/** The response: the dump, or Envoy's one-text-body error with its status. */
export type ConfigDumpResult =
  | { readonly status: 200; readonly body: ConfigDumpBody }
  | { readonly status: 400 | 404; readonly message: string };

type NameMatcher = (name: string) => boolean;

/** One config tracker entry: the admin message it dumps and how. */
interface Component {
  readonly type: string;
  dump(matches: NameMatcher): Json;
}

const ADMIN = "envoy.admin.v3.";
const LISTENER_URL = typeUrl("envoy.config.listener.v3.Listener");
const ROUTE_CONFIGURATION_URL = typeUrl("envoy.config.route.v3.RouteConfiguration");
const CLUSTER_URL = typeUrl("envoy.config.cluster.v3.Cluster");
const CLUSTER_LOAD_ASSIGNMENT_URL = typeUrl("envoy.config.endpoint.v3.ClusterLoadAssignment");
/** HostSetImpl's overprovisioning factor when the assignment's policy sets none. */
const DEFAULT_OVERPROVISIONING_FACTOR = 140;

/**
 * The dump as Envoy answers GET /config_dump with `options` as query parameters. `_now` is unused:
 * every time in a dump is one Envoy recorded earlier (see resource-versions.ts).
 */
export function configDump(
  applied: AppliedSnapshot,
  identity: ProxyIdentity,
  options: ConfigDumpOptions,
  _now: number,
): ConfigDumpResult {
  const matches = nameMatcher(options.nameRegex || undefined);
  if (typeof matches === "string") return { status: 400, message: matches };
  const list = components(applied, identity, options.includeEds === true);
  const resource = options.resource || undefined;
  const paths = options.mask ? parseFieldMask(options.mask) : undefined;
  if (resource !== undefined) return byResource(list, resource, paths, matches);
  const configs: Json[] = [];
  for (const component of list) {
    const dump = component.dump(matches);
    if (paths === undefined) configs.push(packed(component.type, dump));
    // A mask fits some dumps and not others; those it does not fit are left out.
    else if (maskFits(component.type, paths, dump))
      configs.push(packed(component.type, trimMessage(component.type, paths, dump)));
  }
  if (paths !== undefined && configs.length === 0) {
    return {
      status: 400,
      message: `FieldMask ${options.mask} could not be successfully applied to any configs.`,
    };
  }
  return { status: 200, body: configs.length > 0 ? { configs } : {} };
}

function byResource(
  list: readonly Component[],
  resource: string,
  paths: readonly string[] | undefined,
  matches: NameMatcher,
): ConfigDumpResult {
  for (const component of list) {
    const field = messageFields(component.type).get(resource);
    if (!field) continue;
    if (!field.repeated) {
      return {
        status: 400,
        message: `${resource} is not a repeated field. Use ?mask=${resource} to get only this field`,
      };
    }
    const elementType = field.type;
    if (elementType === undefined || elementType === "?") {
      return { status: 400, message: `${resource} is not a repeated message field` };
    }
    const elements = (component.dump(matches)[field.json] ?? []) as Json[];
    const configs: Json[] = [];
    for (const element of elements) {
      const trimmed = paths === undefined ? element : trimResource(elementType, paths, element);
      if (trimmed === undefined) {
        return {
          status: 400,
          message: `FieldMask ${fieldMaskDebugString(paths ?? [])} could not be successfully used.`,
        };
      }
      configs.push(packed(elementType, trimmed));
    }
    return { status: 200, body: configs.length > 0 ? { configs } : {} };
  }
  return { status: 404, message: `${resource} not found in config dump` };
}

/**
 * buildNameMatcher: a google_re2 RegexMatcher, which matches the whole name. Envoy answers a bad
 * pattern with the absl status text and RE2's own error (RE2::error(): "<reason>: <fragment>").
 */
function nameMatcher(regex: string | undefined): NameMatcher | string {
  if (regex === undefined) return () => true;
  try {
    const re = RE2JS.compile(regex);
    return (name) => re.testExact(name);
  } catch (error) {
    const reason =
      error instanceof RE2JSSyntaxException
        ? [RE2_ERRORS[error.error] ?? error.error, error.input].filter(Boolean).join(": ")
        : String(error);
    return `INVALID_ARGUMENT: Error while parsing name_regex from ${regex}: ${reason}`;
  }
}

/** re2js words some errors as Go does; RE2 in C++ (re2/regexp.cc kErrorStrings) words them so. */
const RE2_ERRORS: Readonly<Record<string, string>> = {
  "missing closing ]": "missing ]",
  "missing closing )": "missing )",
  "missing argument to repetition operator": "no argument for repetition operator",
  "invalid repeat count": "invalid repetition size",
  "invalid nested repetition operator": "bad repetition operator",
  "invalid or unsupported Perl syntax": "invalid perl operator",
  "invalid named capture": "invalid named capture group",
  "duplicate capture group name": "invalid named capture group",
  "trailing backslash at end of expression": "trailing \\",
};

function components(applied: AppliedSnapshot, identity: ProxyIdentity, includeEds: boolean): Component[] {
  const list: Component[] = [
    { type: `${ADMIN}BootstrapConfigDump`, dump: () => bootstrapDump(identity) },
    { type: `${ADMIN}ClustersConfigDump`, dump: (m) => clustersDump(applied, m) },
  ];
  // Envoy adds the endpoints under the key "endpoint", sorted in with the tracker's keys.
  if (includeEds && applied.snapshot.clusters.length > 0) {
    list.push({ type: `${ADMIN}EndpointsConfigDump`, dump: (m) => endpointsDump(applied, m) });
  }
  list.push(
    { type: `${ADMIN}ListenersConfigDump`, dump: (m) => listenersDump(applied, m) },
    { type: `${ADMIN}ScopedRoutesConfigDump`, dump: () => ({}) },
    { type: `${ADMIN}RoutesConfigDump`, dump: (m) => routesDump(applied, m) },
    { type: `${ADMIN}SecretsConfigDump`, dump: () => ({}) },
  );
  return list;
}

/** A message packed in an Any: its type URL first, then its fields. */
function packed(type: string, message: Json): Json {
  return { "@type": typeUrl(type), ...message };
}

/** The resource as its Any: the snapshot's JSON names its type, except route configurations. */
function asAny(url: string, resource: object): Json {
  return { "@type": url, ...resource };
}

function ifSet(key: string, value: unknown): Json {
  return value === undefined || value === "" ? {} : { [key]: value };
}

function ifAny(key: string, values: readonly unknown[]): Json {
  return values.length > 0 ? { [key]: values } : {};
}

/** A dynamic entry: version_info, the resource, last_updated, in the protos' field order. */
function dynamicEntry(update: ResourceUpdate | undefined, key: string, resource: Json): Json {
  return {
    ...ifSet("versionInfo", update?.versionInfo),
    [key]: resource,
    ...ifSet("lastUpdated", update?.lastUpdated),
  };
}

/** ADS as the source of listeners and clusters, as Istio's bootstrap template writes it. */
function adsSource(): Json {
  return { ads: {}, initialFetchTimeout: "0s", resourceApiVersion: "V3" };
}

/** InstanceBase::dumpBootstrapConfig: the bootstrap and when the server loaded it. */
function bootstrapDump(identity: ProxyIdentity): Json {
  return {
    bootstrap: {
      node: envoyNode(identity),
      dynamicResources: {
        ldsConfig: adsSource(),
        cdsConfig: adsSource(),
        adsConfig: { apiType: "GRPC", transportApiVersion: "V3", setNodeOnFirstMessageOnly: true },
      },
      admin: { address: { socketAddress: { ...identity.adminAddress } } },
    },
    lastUpdated: envoyTimestamp(identity.startedAt),
  };
}

/** The cluster manager keeps its clusters in a std::map, so the dumps list them by name. */
function clustersByName(applied: AppliedSnapshot): EnvoyCluster[] {
  return [...applied.snapshot.clusters].sort((a, b) => byteOrder(a.name, b.name));
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** ClusterManagerImpl::dumpClusterConfigs. */
function clustersDump(applied: AppliedSnapshot, matches: NameMatcher): Json {
  const clusters = clustersByName(applied).filter((c) => matches(c.name));
  return {
    ...ifSet("versionInfo", applied.version),
    ...ifAny(
      "dynamicActiveClusters",
      clusters.map((c) => dynamicEntry(applied.clusters.get(c.name), "cluster", asAny(CLUSTER_URL, c))),
    ),
  };
}

/** ListenerManagerImpl::dumpListenerConfigs: each listener in its active state, in push order. */
function listenersDump(applied: AppliedSnapshot, matches: NameMatcher): Json {
  const listeners = applied.snapshot.listeners.filter((l) => matches(l.name));
  return {
    ...ifSet("versionInfo", applied.version),
    ...ifAny(
      "dynamicListeners",
      listeners.map((l) => ({
        name: l.name,
        activeState: dynamicEntry(applied.listeners.get(l.name), "listener", asAny(LISTENER_URL, l)),
      })),
    ),
  };
}

/** RouteConfigProviderManagerImpl::dumpRouteConfigs (Envoy's order is a hash map's; push order here). */
function routesDump(applied: AppliedSnapshot, matches: NameMatcher): Json {
  const routes = applied.snapshot.routes.filter((r) => matches(r.name));
  return ifAny(
    "dynamicRouteConfigs",
    routes.map((r) =>
      dynamicEntry(applied.routes.get(r.name), "routeConfig", asAny(ROUTE_CONFIGURATION_URL, r)),
    ),
  );
}

/**
 * ConfigDumpHandler::dumpEndpointConfigs: one assignment per active cluster, rebuilt from its hosts.
 * Envoy records no version for these, so the entries hold only the assignment.
 */
function endpointsDump(applied: AppliedSnapshot, matches: NameMatcher): Json {
  const assignments = new Map(applied.snapshot.endpoints.map((e) => [e.clusterName, e]));
  const configs: Json[] = [];
  for (const cluster of clustersByName(applied)) {
    const name = cluster.edsClusterConfig?.serviceName || cluster.name;
    if (!matches(name)) continue;
    const assignment = cluster.type === "EDS" ? assignments.get(name) : undefined;
    configs.push({ endpointConfig: hostsAssignment(cluster, name, assignment) });
  }
  return ifAny("dynamicEndpointConfigs", configs);
}

const LOCALITY_KEYS = ["region", "zone", "subZone"] as const;

interface LocalityHosts {
  readonly locality: EnvoyLocality;
  weight: number;
  readonly hosts: EnvoyLbEndpoint[];
}

/**
 * What Envoy rebuilds from a cluster's priority set: hosts grouped per locality in (region, zone,
 * sub_zone) order (PriorityStateManager keys them by LocalityLess; the gateway has no locality of
 * its own to put first), a repeated address kept once, a locality weight only under locality
 * weighted balancing, and the overprovisioning factor of the (only) priority.
 */
function hostsAssignment(
  cluster: EnvoyCluster,
  name: string,
  assignment: EnvoyClusterLoadAssignment | undefined,
): Json {
  const weighted = cluster.commonLbConfig?.localityWeightedLbConfig !== undefined;
  const groups = new Map<string, LocalityHosts>();
  const seen = new Set<string>();
  for (const group of assignment?.endpoints ?? []) {
    const locality = group.locality ?? {};
    const key = JSON.stringify(LOCALITY_KEYS.map((k) => locality[k] ?? ""));
    let entry = groups.get(key);
    if (!entry) {
      entry = { locality, weight: 0, hosts: [] };
      groups.set(key, entry);
    }
    // A locality's weight counts only when the group names the locality (initializePriorityFor).
    if (group.locality !== undefined) entry.weight = group.loadBalancingWeight;
    for (const host of group.lbEndpoints) {
      const { address, portValue } = host.endpoint.address.socketAddress;
      const hostKey = `${address}:${portValue}`;
      if (seen.has(hostKey)) continue;
      seen.add(hostKey);
      entry.hosts.push(host);
    }
  }
  const endpoints = [...groups.values()]
    .filter((g) => g.hosts.length > 0)
    .sort((x, y) =>
      LOCALITY_KEYS.reduce((o, k) => o || byteOrder(x.locality[k] ?? "", y.locality[k] ?? ""), 0),
    )
    .map((g) => ({
      locality: Object.assign({}, ...LOCALITY_KEYS.map((k) => ifSet(k, g.locality[k]))),
      lbEndpoints: g.hosts.map(lbEndpoint),
      ...(weighted ? { loadBalancingWeight: g.weight } : {}),
    }));
  return {
    "@type": CLUSTER_LOAD_ASSIGNMENT_URL,
    clusterName: name,
    ...ifAny("endpoints", endpoints),
    policy: { overprovisioningFactor: DEFAULT_OVERPROVISIONING_FACTOR },
  };
}

/** ConfigDumpHandler::addLbEndpoint. */
function lbEndpoint(host: EnvoyLbEndpoint): Json {
  const { address, portValue } = host.endpoint.address.socketAddress;
  return {
    endpoint: {
      address: { socketAddress: { ...ifSet("address", address), ...(portValue ? { portValue } : {}) } },
      // Always set; empty since the hosts have no health check hostname or port of their own.
      healthCheckConfig: {},
    },
    healthStatus: coarseHealth(host.healthStatus),
    ...(host.metadata ? { metadata: host.metadata } : {}),
    // HostImpl keeps a weight of at least 1.
    loadBalancingWeight: Math.max(1, host.loadBalancingWeight),
  };
}

/**
 * Host::coarseHealth of an EDS host: UNHEALTHY, DRAINING and TIMEOUT set FAILED_EDS_HEALTH, DEGRADED
 * sets DEGRADED_EDS_HEALTH, UNKNOWN and HEALTHY set nothing (HostImpl::setEdsHealthFlag).
 */
function coarseHealth(status: HealthStatus): HealthStatus {
  if (status === "UNHEALTHY" || status === "DRAINING" || status === "TIMEOUT") return "UNHEALTHY";
  return status === "DEGRADED" ? "DEGRADED" : "HEALTHY";
}
