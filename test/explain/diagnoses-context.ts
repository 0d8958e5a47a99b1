/**
 * RouteContexts for the diagnoses' tests, built from what the translation emits for the walkthrough
 * (deploy/ and one of its components), with the paths a proxy's config dump would give them, and
 * small helpers to change one resource per problem class.
 */

import type {
  HostState,
  Located,
  ProxyFacts,
  RouteContext,
  RoutedCluster,
} from "../../src/explain/context.js";
import { translate } from "../../src/istiod/index.js";
import type {
  DumpCluster,
  DumpListener,
  DumpRouteConfiguration,
  JsonObject,
} from "../../src/proxy-config/config-dump.js";
import type { EnvoyClusterLoadAssignment } from "../../src/xds/cluster-types.js";
import { type Component, walkthroughInput } from "../istiod/walkthrough-input.js";

const CLUSTERS = "configs[1].dynamicActiveClusters";
const ENDPOINTS = "configs[2].dynamicEndpointConfigs";
const LISTENER = "configs[3].dynamicListeners[0].activeState.listener";
const ROUTES = "configs[5].dynamicRouteConfigs[0].routeConfig";

const json = <T>(value: unknown): T => JSON.parse(JSON.stringify(value)) as T;

function hostsOf(assignment: Located<EnvoyClusterLoadAssignment>): HostState[] {
  return assignment.value.endpoints.flatMap((group, g) =>
    group.lbEndpoints.map((lb, e) => {
      const s = lb.endpoint.address.socketAddress;
      return {
        address: `${s.address}:${s.portValue}`,
        weight: lb.loadBalancingWeight,
        health: lb.healthStatus,
        failedOutlierCheck: false,
        locality: group.locality ?? {},
        priority: 0,
        path: `${assignment.path}.endpoints[${g}].lbEndpoints[${e}]`,
      };
    }),
  );
}

/** The walkthrough gateway's context for GET / (persistent sessions with istiod's flag on). */
export function routeContext(component?: Component, proxy: Partial<ProxyFacts> = {}): RouteContext {
  const input = walkthroughInput(component);
  const snapshot = json<ReturnType<typeof translate>>(
    translate(
      component === "persistent-session"
        ? { ...input, features: { enablePersistentSessionFilter: true } }
        : input,
      "1",
    ),
  );
  const listener = snapshot.listeners[0] as unknown as DumpListener;
  const hcm = snapshot.listeners[0]?.filterChains[0]?.filters[0]?.typedConfig;
  const routeConfig = snapshot.routes[0];
  const vh = routeConfig?.virtualHosts[0];
  const route = vh?.routes?.[0];
  const clusterName = route?.route.cluster ?? "";
  const c = snapshot.clusters.findIndex((x) => x.name === clusterName);
  const e = snapshot.endpoints.findIndex((x) => x.clusterName === clusterName);
  const assignment = {
    value: snapshot.endpoints[e] as EnvoyClusterLoadAssignment,
    path: `${ENDPOINTS}[${e}].endpointConfig`,
  };
  const routed: RoutedCluster = {
    name: clusterName,
    weight: 1,
    cluster: { value: snapshot.clusters[c] as DumpCluster, path: `${CLUSTERS}[${c}].cluster` },
    assignment: assignment as RoutedCluster["assignment"] & object,
    hosts: hostsOf(assignment),
  };
  return {
    proxy: { kind: "gateway", ...proxy },
    request: { authority: "localhost", path: "/", method: "GET", headers: [] },
    listener: { value: listener, path: LISTENER },
    httpFilters: (hcm?.httpFilters ?? []).map((f) => f.name),
    routeConfig: { value: routeConfig as unknown as DumpRouteConfiguration, path: ROUTES },
    virtualHost: { value: vh as unknown as JsonObject, path: `${ROUTES}.virtualHosts[0]` },
    route: { value: route as unknown as JsonObject, path: `${ROUTES}.virtualHosts[0].routes[0]` },
    clusters: [routed],
    appCookies: ["sid"],
  };
}

/** The context with its matched route's value changed. */
export function withRoute(ctx: RouteContext, change: (route: JsonObject) => JsonObject): RouteContext {
  if (!ctx.route) throw new Error("no route to change");
  return { ...ctx, route: { ...ctx.route, value: change(json<JsonObject>(ctx.route.value)) } };
}

/** The context with its matched route's RouteAction changed. */
export function withAction(ctx: RouteContext, change: (action: JsonObject) => JsonObject): RouteContext {
  return withRoute(ctx, (r) => ({ ...r, route: change(r.route as JsonObject) }));
}

/** The context with every routed cluster resource changed. */
export function withCluster(ctx: RouteContext, change: (cluster: DumpCluster) => DumpCluster): RouteContext {
  return {
    ...ctx,
    clusters: ctx.clusters.map((c) =>
      c.cluster ? { ...c, cluster: { ...c.cluster, value: change(json<DumpCluster>(c.cluster.value)) } } : c,
    ),
  };
}

/** The context with every routed cluster's hosts changed. */
export function withHosts(ctx: RouteContext, change: (hosts: HostState[]) => HostState[]): RouteContext {
  return { ...ctx, clusters: ctx.clusters.map((c) => ({ ...c, hosts: change([...c.hosts]) })) };
}

/** `n` healthy hosts 10.244.x.y:8080 in one zone, with the walkthrough assignment's paths. */
export function manyHosts(ctx: RouteContext, n: number): HostState[] {
  const base = ctx.clusters[0]?.assignment?.path ?? ENDPOINTS;
  return Array.from({ length: n }, (_, i) => ({
    address: `10.244.${i >> 8}.${(i & 255) + 1}:8080`,
    weight: 1,
    health: "HEALTHY",
    failedOutlierCheck: false,
    locality: { region: "eu-west-1", zone: "eu-west-1a" },
    priority: 0,
    path: `${base}.endpoints[0].lbEndpoints[${i}]`,
  }));
}
