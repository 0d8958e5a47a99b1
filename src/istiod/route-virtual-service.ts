/**
 * One VirtualService's HTTP routes, after istiod's pilot/pkg/networking/core/route/route.go
 * (BuildHTTPRoutesForVirtualService, sourceMatchHTTP, TranslateRoute, applyHTTPRouteDestination,
 * processDestination, processWeightedDestination, setTimeout, GetDestinationCluster, GetRouteOperation)
 * and util.go BuildConfigInfoMetadata, in Istio 1.30.
 *
 * Not reproduced (rejected with an error rather than translated wrongly): redirect, directResponse,
 * rewrite, mirror/mirrors, fault, corsPolicy, delegate VirtualServices, JWT claim matches.
 */
import type { IstioConsistentHash } from "../lb/istio-hash-policy.js";
import type {
  EnvoyClusterWeight,
  EnvoyHashPolicy,
  EnvoyRoute,
  EnvoyRouteAction,
  TypedAny,
} from "../xds/route-types.js";
import type { KubeObject } from "./input.js";
import { protoDuration } from "./route-duration.js";
import {
  consistentHashToHashPolicy,
  type ResolvedDestination,
  STATEFUL_SESSION_FILTER,
  statefulSessionPerRoute,
} from "./route-hash-policy.js";
import {
  type IstioHeaders,
  type IstioHttpMatch,
  isCatchAllRoute,
  translateHeadersOperations,
  translateRouteMatch,
} from "./route-match.js";
import { convertRetryPolicy, type IstioHttpRetry } from "./route-retry.js";

export interface IstioHttpRouteDestination {
  readonly destination: {
    readonly host: string;
    readonly subset?: string;
    readonly port?: { readonly number?: number };
  };
  readonly weight?: number;
  readonly headers?: IstioHeaders;
}

export interface IstioHttpRoute {
  readonly name?: string;
  readonly match?: readonly IstioHttpMatch[];
  readonly route?: readonly IstioHttpRouteDestination[];
  readonly timeout?: string;
  readonly retries?: IstioHttpRetry;
  readonly headers?: IstioHeaders;
  readonly [unsupported: string]: unknown;
}

const UNSUPPORTED = [
  "redirect",
  "directResponse",
  "rewrite",
  "mirror",
  "mirrors",
  "fault",
  "corsPolicy",
  "delegate",
];

/** What the translation needs to know about the mesh, already resolved by the caller. */
export interface RouteContext {
  /** The Service object behind an FQDN, if any (buildNameToServiceMapForHTTPRoutes). */
  readonly service: (fqdn: string) => KubeObject | undefined;
  /** The consistent hash the destination's DestinationRule sets (HashForHTTPDestination). */
  readonly hash: (dst: ResolvedDestination) => IstioConsistentHash | undefined;
  /** A destination host as written, resolved to the FQDN istiod uses (ResolveShortnameToFQDN). */
  readonly resolveHost: (host: string) => string;
  /** The full "namespace/name" of a gateway reference made from the VirtualService's namespace. */
  readonly resolveGateway: (ref: string) => string;
  readonly proxyLabels: Readonly<Record<string, string>>;
  readonly proxyNamespace: string;
  readonly persistentSessionFilter: boolean;
}

/** model.BuildSubsetKey via route.go GetDestinationCluster: outbound|port|subset|host. */
function destinationCluster(
  dst: ResolvedDestination,
  service: KubeObject | undefined,
  listenPort: number,
): string {
  let port = listenPort;
  const ports = ((service?.spec as { ports?: { port: number }[] } | undefined)?.ports ?? []) as {
    port: number;
  }[];
  if (dst.port !== undefined) port = dst.port;
  else if (service && ports.length === 1 && ports[0]) port = ports[0].port;
  return `outbound|${port}|${dst.subset ?? ""}|${dst.host}`;
}

/** route.go sourceMatchHTTP: a match naming gateways applies only to those; else source labels/namespace. */
function sourceMatches(match: IstioHttpMatch | undefined, gatewayName: string, ctx: RouteContext): boolean {
  if (!match) return true;
  if ((match.gateways ?? []).length > 0) {
    return (match.gateways ?? []).some((g) => ctx.resolveGateway(g) === gatewayName);
  }
  const labelsMatch = Object.entries(match.sourceLabels ?? {}).every(([k, v]) => ctx.proxyLabels[k] === v);
  if (!labelsMatch) return false;
  return (match.sourceNamespace ?? "") === "" || match.sourceNamespace === ctx.proxyNamespace;
}

/** route.go GetRouteOperation: host:port plus the path when a single valid cluster is the target. */
function routeOperation(route: Pick<EnvoyRoute, "match" | "route">, vsName: string, port: number): string {
  const m = route.match;
  let path = "/*";
  if (m.prefix !== undefined) path = `${m.prefix}*`;
  else if (m.path !== undefined) path = m.path;
  else if (m.safeRegex !== undefined) path = m.safeRegex.regex;
  const parts = route.route.cluster?.split("|");
  if (parts?.length === 4 && /^\d+$/.test(parts[1] ?? "")) return `${parts[3]}:${parts[1]}${path}`;
  return `${vsName}:${port}${path}`;
}

function resolveDestination(d: IstioHttpRouteDestination, ctx: RouteContext): ResolvedDestination {
  return {
    host: ctx.resolveHost(d.destination.host),
    ...(d.destination.subset ? { subset: d.destination.subset } : {}),
    ...(d.destination.port?.number ? { port: d.destination.port.number } : {}),
  };
}

/** route.go applyHTTPRouteDestination: the action, plus the destination hosts for stateful sessions. */
function routeAction(
  http: IstioHttpRoute,
  authority: string,
  listenPort: number,
  ctx: RouteContext,
  out: {
    requestHeadersToAdd: unknown[];
    requestHeadersToRemove: unknown[];
    responseHeadersToAdd: unknown[];
    responseHeadersToRemove: unknown[];
  },
): { action: EnvoyRouteAction; hosts: string[] } {
  // setTimeout: no VirtualService timeout means no timeout at all (0s), and gRPC's header max follows.
  const timeout = http.timeout !== undefined ? protoDuration(http.timeout) : "0s";
  const dests = http.route ?? [];
  const hashPolicy: EnvoyHashPolicy[] = [];
  const hosts: string[] = [];
  let hostRewrite = authority;
  let specifier: Pick<EnvoyRouteAction, "cluster" | "weightedClusters">;
  let consistentHash = false;
  if (dests.length === 1 && dests[0]) {
    // processDestination
    const d = dests[0];
    const dst = resolveDestination(d, ctx);
    specifier = { cluster: destinationCluster(dst, ctx.service(dst.host), listenPort) };
    if (d.headers) {
      const ops = translateHeadersOperations(d.headers);
      out.requestHeadersToAdd.push(...ops.requestHeadersToAdd);
      out.requestHeadersToRemove.push(...ops.requestHeadersToRemove);
      out.responseHeadersToAdd.push(...ops.responseHeadersToAdd);
      out.responseHeadersToRemove.push(...ops.responseHeadersToRemove);
      // The route-level authority wins; a destination's only fills in.
      if (ops.authority !== "" && hostRewrite === "") hostRewrite = ops.authority;
    }
    const hash = ctx.hash(dst);
    const policy = consistentHashToHashPolicy(hash);
    if (policy) hashPolicy.push(policy);
    // Only the single-destination case tells ConvertPolicy about the hash (so weighted routes keep the
    // previous_hosts predicate even when every destination hashes).
    consistentHash = hash !== undefined;
    hosts.push(dst.host);
  } else {
    // processWeightedDestination for each non-zero weight; each hashing destination adds its policy.
    const clusters: EnvoyClusterWeight[] = [];
    for (const d of dests) {
      if (!d.weight) continue;
      const dst = resolveDestination(d, ctx);
      let cw: EnvoyClusterWeight = {
        name: destinationCluster(dst, ctx.service(dst.host), listenPort),
        weight: d.weight,
      };
      if (d.headers) {
        const ops = translateHeadersOperations(d.headers);
        cw = {
          ...cw,
          ...(ops.requestHeadersToAdd.length > 0 ? { requestHeadersToAdd: ops.requestHeadersToAdd } : {}),
          ...(ops.requestHeadersToRemove.length > 0
            ? { requestHeadersToRemove: ops.requestHeadersToRemove }
            : {}),
          ...(ops.responseHeadersToAdd.length > 0 ? { responseHeadersToAdd: ops.responseHeadersToAdd } : {}),
          ...(ops.responseHeadersToRemove.length > 0
            ? { responseHeadersToRemove: ops.responseHeadersToRemove }
            : {}),
          ...(ops.authority !== "" ? { hostRewriteLiteral: ops.authority } : {}),
        };
      }
      const policy = consistentHashToHashPolicy(ctx.hash(dst));
      if (policy) hashPolicy.push(policy);
      clusters.push(cw);
      hosts.push(dst.host);
    }
    specifier = { weightedClusters: { clusters } };
  }
  const retryPolicy = convertRetryPolicy(http.retries, consistentHash);
  const action: EnvoyRouteAction = {
    ...specifier,
    timeout,
    ...(retryPolicy ? { retryPolicy } : {}),
    ...(hashPolicy.length > 0 ? { hashPolicy } : {}),
    ...(hostRewrite !== "" ? { hostRewriteLiteral: hostRewrite } : {}),
    maxGrpcTimeout: timeout,
  };
  return { action, hosts };
}

/** route.go TranslateRoute for a destination route; undefined when the match is not for this listener. */
function translateRoute(
  vs: KubeObject,
  http: IstioHttpRoute,
  match: IstioHttpMatch | undefined,
  listenPort: number,
  gatewayName: string,
  ctx: RouteContext,
): EnvoyRoute | undefined {
  if (match?.port && match.port !== listenPort) return undefined;
  if (!sourceMatches(match, gatewayName, ctx)) return undefined;
  const unsupported = UNSUPPORTED.filter((k) => http[k] !== undefined);
  if (unsupported.length > 0)
    throw new Error(`VirtualService ${vs.metadata.name}: ${unsupported.join(", ")} not supported`);

  let name = http.name ?? "";
  if (match?.name) name = `${name}.${match.name}`;
  const ops = http.headers ? translateHeadersOperations(http.headers) : undefined;
  const headerLists = {
    requestHeadersToAdd: [...(ops?.requestHeadersToAdd ?? [])],
    requestHeadersToRemove: [...(ops?.requestHeadersToRemove ?? [])],
    responseHeadersToAdd: [...(ops?.responseHeadersToAdd ?? [])],
    responseHeadersToRemove: [...(ops?.responseHeadersToRemove ?? [])],
  };
  const matchOut = translateRouteMatch(match);
  const { action, hosts } = routeAction(http, ops?.authority ?? "", listenPort, ctx, headerLists);

  // With weighted destinations the first service that asks for a stateful session wins.
  let stateful: TypedAny | undefined;
  for (const h of hosts) {
    const cfg = statefulSessionPerRoute(ctx.service(h), ctx.persistentSessionFilter);
    if (cfg && stateful) break;
    stateful = cfg;
  }
  const ns = vs.metadata.namespace ?? "default";
  const nonEmpty = <K extends keyof typeof headerLists>(k: K) =>
    headerLists[k].length > 0 ? { [k]: headerLists[k] } : {};
  return {
    ...(name !== "" ? { name } : {}),
    match: matchOut,
    ...(match?.statPrefix ? { statPrefix: match.statPrefix } : {}),
    route: action,
    // util.go BuildConfigInfoMetadata: the object's API path, VirtualService at networking.istio.io/v1.
    metadata: {
      filterMetadata: {
        istio: {
          config: `/apis/networking.istio.io/v1/namespaces/${ns}/virtual-service/${vs.metadata.name}`,
        },
      },
    },
    decorator: {
      operation: routeOperation({ match: matchOut, route: action }, vs.metadata.name, listenPort),
    },
    ...(stateful ? { typedPerFilterConfig: { [STATEFUL_SESSION_FILTER]: stateful } } : {}),
    ...nonEmpty("requestHeadersToAdd"),
    ...nonEmpty("requestHeadersToRemove"),
    ...nonEmpty("responseHeadersToAdd"),
    ...nonEmpty("responseHeadersToRemove"),
  } as EnvoyRoute;
}

/**
 * route.go BuildHTTPRoutesForVirtualService: each match of each http rule in order, stopping after the
 * first catch-all (nothing after it could ever match). Empty when nothing applies to this listener.
 */
export function buildVirtualServiceRoutes(
  vs: KubeObject,
  listenPort: number,
  gatewayName: string,
  ctx: RouteContext,
): EnvoyRoute[] {
  const http = ((vs.spec as { http?: IstioHttpRoute[] } | undefined)?.http ?? []) as IstioHttpRoute[];
  const out: EnvoyRoute[] = [];
  for (const rule of http) {
    let catchAll = false;
    const matches = rule.match ?? [];
    if (matches.length === 0) {
      const r = translateRoute(vs, rule, undefined, listenPort, gatewayName, ctx);
      if (r) out.push(r);
      catchAll = true;
    } else {
      for (const m of matches) {
        const r = translateRoute(vs, rule, m, listenPort, gatewayName, ctx);
        if (!r) continue;
        out.push(r);
        if (isCatchAllRoute(r)) {
          catchAll = true;
          break;
        }
      }
    }
    if (catchAll) break;
  }
  return out;
}
