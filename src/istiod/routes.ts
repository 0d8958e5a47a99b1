/**
 * RDS for the ingress gateway: one RouteConfiguration per plain-HTTP listener, after istiod's
 * pilot/pkg/networking/core/gateway.go (buildGatewayHTTPRouteConfig, buildNameToServiceMapForHTTPRoutes,
 * collapseDuplicateRoutes) in Istio 1.30. The per-VirtualService translation is in route-virtual-service.ts.
 *
 * Unlike sidecar routes, a gateway virtual host's domains are just the intersected host ("*"), never
 * host:port variants: the RouteConfiguration sets ignorePortInHostMatching instead.
 */

import type { EnvoyRoute, EnvoyRouteConfiguration, EnvoyVirtualHost, TypedAny } from "../xds/route-types.js";
import type { IstiodInput, KubeObject } from "./input.js";
import { gatewayHttpServers, namespaceOf, type ResolvedServer } from "./route-gateway.js";
import {
  hashForDestination,
  type IstioDestinationRuleSpec,
  type ResolvedDestination,
  STATEFUL_SESSION_FILTER,
  statefulSessionPerRoute,
} from "./route-hash-policy.js";
import { isCatchAllRoute } from "./route-match.js";
import { buildVirtualServiceRoutes, type RouteContext } from "./route-virtual-service.js";
import { destinationRuleFor } from "./service-model.js";

/** model.ResolveShortnameToFQDN: a host without a dot is a Service in `namespace`; others stay as written. */
export function resolveShortname(host: string, namespace: string, domainSuffix: string): string {
  if (host.includes(".") || host === "*") return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}

const isWildcard = (h: string) => h.startsWith("*");

/** host.Name.SubsetOf. */
function subsetOf(n: string, o: string): boolean {
  if (isWildcard(n)) return isWildcard(o) && n.length >= o.length && n.slice(1).endsWith(o.slice(1));
  if (isWildcard(o)) return n.endsWith(o.slice(1));
  return n === o;
}

/** host.Names.Intersection: the narrower of each overlapping pair, deduplicated. */
function intersectHosts(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  for (const x of a) {
    for (const y of b) {
      const pick = subsetOf(x, y) ? x : subsetOf(y, x) ? y : undefined;
      if (pick !== undefined && !out.includes(pick)) out.push(pick);
    }
  }
  return out;
}

/** host.MoreSpecific: non-wildcards first, then longest first, then alphabetical. */
function moreSpecificFirst(a: string, b: string): number {
  if (isWildcard(a) !== isWildcard(b)) return isWildcard(a) ? 1 : -1;
  if (a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** host.NamesForNamespace: "ns/host" entries apply only to VirtualServices of that namespace (or "*"). */
function serverHostsFor(server: ResolvedServer, vsNamespace: string): string[] {
  const out: string[] = [];
  for (const h of server.server.hosts) {
    const slash = h.indexOf("/");
    if (slash < 0) {
      out.push(h);
      continue;
    }
    let ns = h.slice(0, slash);
    if (ns === ".") ns = server.gatewayNamespace;
    if (ns === vsNamespace || ns === "*") out.push(h.slice(slash + 1));
  }
  return out;
}

function serviceFqdn(svc: KubeObject, suffix: string): string {
  return `${svc.metadata.name}.${namespaceOf(svc)}.svc.${suffix}`;
}

/** PushContext.VirtualServicesForGateway: VirtualServices naming the gateway ("name" resolves to their namespace). */
function virtualServicesFor(input: IstiodInput, gatewayName: string): KubeObject[] {
  return input.virtualServices.filter((vs) => {
    const gws = ((vs.spec as { gateways?: string[] } | undefined)?.gateways ?? []) as string[];
    return gws.some((g) => resolveGatewayRef(g, namespaceOf(vs)) === gatewayName);
  });
}

function resolveGatewayRef(ref: string, namespace: string): string {
  return ref.includes("/") ? ref : `${namespace}/${ref}`;
}

/** Services by FQDN, built once per input (a push reads each Service once, not once per VirtualService). */
const servicesByInput = new WeakMap<IstiodInput, Map<string, KubeObject[]>>();

function servicesByFqdn(input: IstiodInput): Map<string, KubeObject[]> {
  let services = servicesByInput.get(input);
  if (!services) {
    services = new Map();
    for (const svc of input.services) {
      const fqdn = serviceFqdn(svc, input.proxy.domainSuffix);
      const list = services.get(fqdn);
      if (list) list.push(svc);
      else services.set(fqdn, [svc]);
    }
    servicesByInput.set(input, services);
  }
  return services;
}

function contextFor(input: IstiodInput, vs: KubeObject): RouteContext {
  const suffix = input.proxy.domainSuffix;
  const vsNs = namespaceOf(vs);
  const services = servicesByFqdn(input);
  return {
    // buildNameToServiceMapForHTTPRoutes: the Service in the VirtualService's namespace first.
    service: (fqdn) => {
      const all = services.get(fqdn) ?? [];
      return all.find((s) => namespaceOf(s) === vsNs) ?? all[0];
    },
    hash: (dst: ResolvedDestination) =>
      hashForDestination(
        dst,
        destinationRuleFor(input, dst.host)?.spec as IstioDestinationRuleSpec | undefined,
      ),
    resolveHost: (h) => resolveShortname(h, vsNs, suffix),
    resolveGateway: (g) => resolveGatewayRef(g, vsNs),
    proxyLabels: input.proxy.labels,
    proxyNamespace: input.proxy.namespace,
    persistentSessionFilter: input.features?.enablePersistentSessionFilter ?? false,
  };
}

interface VHostDraft {
  readonly name: string;
  domains: string[];
  routes: EnvoyRoute[];
  readonly typedPerFilterConfig: Record<string, TypedAny>;
}

/** gateway.go buildGatewayHTTPRouteConfig for one RDS name. */
function buildRouteConfig(
  input: IstiodInput,
  routeName: string,
  servers: ResolvedServer[],
): EnvoyRouteConfiguration {
  const suffix = input.proxy.domainSuffix;
  const vhosts = new Map<string, VHostDraft>();
  // Routes are built once per (gateway, VirtualService) and shared by reference between hosts, which is
  // what lets collapseDuplicateRoutes spot identical route lists.
  const built = new Map<string, EnvoyRoute[] | undefined>();
  for (const server of servers) {
    const port = server.server.port.number;
    for (const vs of virtualServicesFor(input, server.gatewayName)) {
      const vsNs = namespaceOf(vs);
      const vsHosts = (((vs.spec as { hosts?: string[] }).hosts ?? []) as string[]).map((h) =>
        resolveShortname(h, vsNs, suffix),
      );
      const hosts = intersectHosts(serverHostsFor(server, vsNs), vsHosts);
      if (hosts.length === 0) continue;
      const ctx = contextFor(input, vs);
      const key = `${server.gatewayName}|${vs.metadata.name}/${vsNs}`;
      if (!built.has(key)) {
        const r = buildVirtualServiceRoutes(vs, port, server.gatewayName, ctx);
        // An error (no routes for this port) omits the VirtualService.
        built.set(key, r.length > 0 ? r : undefined);
      }
      const routes = built.get(key);
      if (!routes) continue;
      for (const raw of hosts) {
        const hostname = raw.toLowerCase();
        const existing = vhosts.get(hostname);
        if (existing) {
          existing.routes = [...existing.routes, ...routes];
          continue;
        }
        // A VirtualService host that is itself a destination Service carries its stateful session on the
        // virtual host as well.
        const destHosts = (
          (vs.spec as { http?: { route?: { destination?: { host: string } }[] }[] }).http ?? []
        )
          .flatMap((h) => h.route ?? [])
          .map((d) => ctx.resolveHost(d.destination?.host ?? "")) as string[];
        const perFilter: Record<string, TypedAny> = {};
        if (destHosts.includes(hostname)) {
          const cfg = statefulSessionPerRoute(ctx.service(hostname), ctx.persistentSessionFilter);
          if (cfg) perFilter[STATEFUL_SESSION_FILTER] = cfg;
        }
        vhosts.set(hostname, {
          name: `${hostname}:${port}`,
          domains: [hostname],
          routes: [...routes],
          typedPerFilterConfig: perFilter,
        });
      }
    }
  }

  let virtualHosts: EnvoyVirtualHost[];
  if (vhosts.size === 0) {
    // No VirtualService binds: a catch-all host without routes, so Envoy answers 404 (NR).
    const port = servers[0]?.server.port.number ?? 0;
    virtualHosts = [{ name: `blackhole:${port}`, domains: ["*"] }];
  } else {
    virtualHosts = collapseDuplicateRoutes(vhosts).map((v) => ({
      name: v.name,
      domains: v.domains,
      // SortVHostRoutes: catch-all routes move to the end, others keep their order.
      routes: [...v.routes.filter((r) => !isCatchAllRoute(r)), ...v.routes.filter(isCatchAllRoute)],
      ...(Object.keys(v.typedPerFilterConfig).length > 0
        ? { typedPerFilterConfig: v.typedPerFilterConfig }
        : {}),
      // ProxyHeaders default: the x-envoy-attempt-count header is sent upstream.
      includeRequestAttemptCount: true,
    }));
  }
  // util.SortVirtualHosts: by name.
  virtualHosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    name: routeName,
    virtualHosts,
    validateClusters: false,
    ignorePortInHostMatching: true,
    // route.DefaultMaxDirectResponseBodySizeBytes: 1 MiB, the limit the webhook validates.
    maxDirectResponseBodySizeBytes: 1024 * 1024,
  };
}

/**
 * gateway.go collapseDuplicateRoutes (PILOT_ENABLE_ROUTE_COLLAPSE_OPTIMIZATION, on by default): hosts
 * whose route lists are the very same routes fold into the most specific such host, which gains their
 * domains.
 */
function collapseDuplicateRoutes(input: Map<string, VHostDraft>): VHostDraft[] {
  const out: VHostDraft[] = [];
  for (const h of [...input.keys()].sort(moreSpecificFirst)) {
    const vh = input.get(h) as VHostDraft;
    // vhostMergeable compares routes (and TLS/attempt-count settings, equal here), not per-filter config.
    const same = out.find(
      (o) => o.routes.length === vh.routes.length && o.routes.every((r, i) => r === vh.routes[i]),
    );
    if (same) same.domains = [...same.domains, ...vh.domains];
    else out.push({ ...vh, domains: [...vh.domains] });
  }
  return out;
}

/** Every RouteConfiguration the gateway proxy receives, sorted by name. */
export function buildRoutes(input: IstiodInput): EnvoyRouteConfiguration[] {
  const byRoute = new Map<string, ResolvedServer[]>();
  for (const s of gatewayHttpServers(input))
    byRoute.set(s.routeName, [...(byRoute.get(s.routeName) ?? []), s]);
  return [...byRoute.keys()].sort().map((name) => buildRouteConfig(input, name, byRoute.get(name) ?? []));
}
