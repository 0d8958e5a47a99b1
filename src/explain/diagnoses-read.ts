/**
 * What the diagnoses read from a RouteContext, with Envoy's meaning for what a dump leaves out: the
 * route's hash policies, stateful session and retry host predicates, a cluster's balancing policy,
 * panic threshold and ring size, a host's health. Readers never throw: a real dump can carry shapes
 * the local translation never emits, and an unreadable value reads as absent.
 */
import { PREVIOUS_HOSTS_PREDICATE, STATEFUL_SESSION_FILTER } from "../envoy/route-action.js";
import type { DumpCluster } from "../proxy-config/config-dump.js";
import { field, isObject, type JsonObject, list, num, objects, str } from "../proxy-config/config-dump.js";
import type { Finding, HostState, Located, RouteContext, RoutedCluster } from "./context.js";

export { PREVIOUS_HOSTS_PREDICATE, STATEFUL_SESSION_FILTER };

export type Evidence = Finding["evidence"][number];

/** Evidence for a field: the value found there, or null when the dump leaves the field out. */
export function at(path: string, value: unknown): Evidence {
  return { path, value: value === undefined ? null : value };
}

/** The matched route's RouteAction (absent for a redirect, a direct response or no match). */
export function routeAction(ctx: RouteContext): Located<JsonObject> | undefined {
  const action = field(ctx.route?.value, "route");
  return ctx.route && isObject(action) ? { value: action, path: `${ctx.route.path}.route` } : undefined;
}

/**
 * Whether a hash policy can yield a hash: `connectionProperties` without `sourceIp` never does. A
 * route's policies are envoy.config.route.v3.RouteAction.HashPolicy; a TCP proxy's are
 * envoy.type.v3.HashPolicy, whose `sourceIp` is a message.
 */
function hashesSomething(policy: JsonObject): boolean {
  if (isObject(policy.connectionProperties)) return policy.connectionProperties.sourceIp === true;
  return ["header", "cookie", "queryParameter", "filterState", "sourceIp"].some((k) => isObject(policy[k]));
}

/** The hash policies of the route (or of the TCP proxy) that can yield a hash, with their paths. */
export function hashPolicies(ctx: RouteContext): Located<JsonObject>[] {
  const owner = ctx.tcpProxy ?? routeAction(ctx);
  if (!owner) return [];
  return objects(owner.value.hashPolicy)
    .map((value, i) => ({ value, path: `${owner.path}.hashPolicy[${i}]` }))
    .filter((p) => hashesSomething(p.value));
}

/** The cookie hash policies, each with its cookie object (name, ttl, path, attributes). */
export function cookiePolicies(ctx: RouteContext): Located<JsonObject>[] {
  return hashPolicies(ctx).flatMap((p) =>
    isObject(p.value.cookie) ? [{ value: p.value.cookie, path: `${p.path}.cookie` }] : [],
  );
}

/**
 * The balancing policy as Envoy runs it: `loadBalancingPolicy` (the typed extension form) wins over
 * `lbPolicy`, and an absent `lbPolicy` is ROUND_ROBIN, the enum's zero that proto3 JSON omits.
 */
export function lbPolicyOf(cluster: DumpCluster): string {
  const typed = field(objects(field(cluster.loadBalancingPolicy, "policies"))[0], "typedExtensionConfig");
  const type = str(field(typed, "typedConfig", "@type"));
  const byType: Record<string, string> = {
    RingHash: "RING_HASH",
    Maglev: "MAGLEV",
    LeastRequest: "LEAST_REQUEST",
    RoundRobin: "ROUND_ROBIN",
    Random: "RANDOM",
  };
  const fromTyped = byType[type.slice(type.lastIndexOf(".") + 1)];
  if (fromTyped) return fromTyped;
  return str(cluster.lbPolicy) || "ROUND_ROBIN";
}

/** Where the cluster names its balancing policy, for evidence. */
export function lbPolicyEvidence(cluster: Located<DumpCluster>): Evidence {
  return cluster.value.loadBalancingPolicy !== undefined
    ? at(`${cluster.path}.loadBalancingPolicy`, cluster.value.loadBalancingPolicy)
    : at(`${cluster.path}.lbPolicy`, cluster.value.lbPolicy);
}

/** Ring hash and Maglev map a request hash to a host; every other policy ignores the hash. */
export function hashesRequests(cluster: DumpCluster): boolean {
  const policy = lbPolicyOf(cluster);
  return policy === "RING_HASH" || policy === "MAGLEV";
}

/** The routed clusters the dump holds, each with its cluster resource. */
export function presentClusters(ctx: RouteContext): (RoutedCluster & { cluster: Located<DumpCluster> })[] {
  return ctx.clusters.filter((c): c is RoutedCluster & { cluster: Located<DumpCluster> } => !!c.cluster);
}

/** The routed clusters that hash requests to hosts. */
export function hashingClusters(ctx: RouteContext) {
  return presentClusters(ctx).filter((c) => hashesRequests(c.cluster.value));
}

/** Whether this route's affinity rests on consistent hashing: a hash policy and a hashing cluster. */
export function routeHashes(ctx: RouteContext): boolean {
  return hashPolicies(ctx).length > 0 && hashingClusters(ctx).length > 0;
}

export interface RouteSession {
  readonly path: string;
  readonly value: JsonObject;
  readonly kind: "cookie" | "header" | "other";
  readonly name: string;
  readonly strict: boolean;
}

/**
 * The route's stateful session (Istio's persistent session): the per-route StatefulSessionPerRoute,
 * on the route or else its virtual host (envoy: source/extensions/filters/http/stateful_session,
 * the most specific per-filter config wins). Absent, or `disabled`, means no session.
 */
export function routeSession(ctx: RouteContext): RouteSession | undefined {
  for (const owner of [ctx.route, ctx.virtualHost]) {
    const config = field(owner?.value, "typedPerFilterConfig", STATEFUL_SESSION_FILTER);
    if (!owner || !isObject(config)) continue;
    if (config.disabled === true) return undefined;
    const session = field(config, "statefulSession");
    const state = field(session, "sessionState", "typedConfig");
    if (!isObject(state)) return undefined;
    const type = str(state["@type"]);
    const kind = type.endsWith(".CookieBasedSessionState")
      ? "cookie"
      : type.endsWith(".HeaderBasedSessionState")
        ? "header"
        : "other";
    return {
      path: `${owner.path}.typedPerFilterConfig["${STATEFUL_SESSION_FILTER}"]`,
      value: config,
      kind,
      name: kind === "cookie" ? str(field(state, "cookie", "name")) : str(state.name),
      strict: field(session, "strict") === true,
    };
  }
  return undefined;
}

/**
 * Where the listener lists the HTTP filters: the connection manager whose filters these are, else the
 * listener's first connection manager.
 */
export function httpFiltersEvidence(ctx: RouteContext): Evidence {
  const managers: Evidence[] = [];
  objects(ctx.listener.value.filterChains).forEach((chain, i) => {
    objects(chain.filters).forEach((filter, j) => {
      const filters = field(filter, "typedConfig", "httpFilters");
      if (!Array.isArray(filters)) return;
      const names = objects(filters).map((f) => str(f.name));
      managers.push(
        at(`${ctx.listener.path}.filterChains[${i}].filters[${j}].typedConfig.httpFilters`, names),
      );
    });
  });
  const same = managers.find((m) => (m.value as string[]).join() === ctx.httpFilters.join());
  return same ?? managers[0] ?? at(ctx.listener.path, { httpFilters: ctx.httpFilters });
}

/** The retry policy's host predicate list, when it holds previous_hosts. */
export function previousHostsPredicate(ctx: RouteContext): Evidence | undefined {
  const action = routeAction(ctx);
  const predicates = field(action?.value, "retryPolicy", "retryHostPredicate");
  if (!action || !objects(predicates).some((p) => p.name === PREVIOUS_HOSTS_PREDICATE)) return undefined;
  return at(`${action.path}.retryPolicy.retryHostPredicate`, predicates);
}

/** Envoy counts HEALTHY and UNKNOWN (no health checking) as healthy; an ejected host is not. */
export function isHealthy(host: HostState): boolean {
  return (host.health === "HEALTHY" || host.health === "UNKNOWN") && !host.failedOutlierCheck;
}

/** DEGRADED hosts are used only when too few hosts are healthy, but they still serve. */
export function isAvailable(host: HostState): boolean {
  return isHealthy(host) || (host.health === "DEGRADED" && !host.failedOutlierCheck);
}

/** The hosts of the lowest priority present: the ones that take traffic while they are healthy. */
export function firstPriority(hosts: readonly HostState[]): HostState[] {
  const lowest = Math.min(...hosts.map((h) => h.priority));
  return hosts.filter((h) => h.priority === lowest);
}

/**
 * healthy_panic_threshold in percent: Envoy's 50 when the field is unset, and a Percent message
 * without `value` is 0 (panic mode off), as Istio writes it (src/envoy/cluster-config.ts).
 */
export function panicThreshold(cluster: DumpCluster): number {
  const panic = field(cluster.commonLbConfig, "healthyPanicThreshold");
  if (panic === undefined) return 50;
  const value = field(panic, "value");
  return typeof value === "number" ? value : 0;
}

/** Whether the priority's available share is below the panic threshold, so Envoy uses every host. */
export function inPanic(cluster: DumpCluster, hosts: readonly HostState[]): boolean {
  if (hosts.length === 0) return false;
  const first = firstPriority(hosts);
  return (100 * first.filter(isAvailable).length) / first.length < panicThreshold(cluster);
}

/** The Service host behind an Istio cluster (`istio.services` metadata, else `outbound|port|subset|host`). */
export function serviceHost(cluster: RoutedCluster): string {
  const services = field(cluster.cluster?.value.metadata, "filterMetadata", "istio", "services");
  const host = str(field(list(services)[0], "host"));
  if (host) return host;
  const parts = cluster.name.split("|");
  return parts.length === 4 && parts[3] ? parts[3] : "<host>";
}

/** The DestinationRule subset of an Istio cluster name, if any. */
export function subsetOf(cluster: RoutedCluster): string | undefined {
  const parts = cluster.name.split("|");
  return parts.length === 4 && parts[2] ? parts[2] : undefined;
}

/** A count from a uint64 field, which proto3 JSON prints as a decimal string. */
export function count(value: unknown): number | undefined {
  return value === undefined ? undefined : num(value);
}

/** A DestinationRule fragment for a host: `trafficPolicy` lines indented under spec. */
export function destinationRuleFix(host: string, trafficPolicy: string): string {
  const body = trafficPolicy
    .trim()
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
  return `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nspec:\n  host: ${host}\n  trafficPolicy:\n${body}\n`;
}
