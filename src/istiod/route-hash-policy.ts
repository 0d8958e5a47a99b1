/**
 * Hash policies and stateful-session route config, after istiod's pilot/pkg/networking/core/route/route.go
 * (HashForHTTPDestination, portLevelSettingsConsistentHash, ConsistentHashToHashPolicy) and
 * pilot/pkg/networking/util/util.go (MaybeBuildStatefulSessionFilterConfig) in Istio 1.30.
 */
import type { IstioConsistentHash } from "../lb/istio-hash-policy.js";
import type { EnvoyHashPolicy, TypedAny } from "../xds/route-types.js";
import type { KubeObject } from "./input.js";
import { protoDuration } from "./route-duration.js";

interface TrafficPolicy {
  readonly loadBalancer?: { readonly consistentHash?: IstioConsistentHash };
  readonly portLevelSettings?: readonly {
    readonly port?: { readonly number?: number };
    readonly loadBalancer?: { readonly consistentHash?: IstioConsistentHash };
  }[];
}

export interface IstioDestinationRuleSpec {
  readonly host: string;
  readonly trafficPolicy?: TrafficPolicy;
  readonly subsets?: readonly { readonly name: string; readonly trafficPolicy?: TrafficPolicy }[];
}

/** A destination as it reaches hashing: host already resolved to its FQDN. */
export interface ResolvedDestination {
  readonly host: string;
  readonly subset?: string;
  readonly port?: number;
}

/** route.go portLevelSettingsConsistentHash: only an explicit destination port selects port settings. */
function portLevelHash(
  dst: ResolvedDestination,
  policy: TrafficPolicy | undefined,
): IstioConsistentHash | undefined {
  if (dst.port === undefined) return undefined;
  const setting = policy?.portLevelSettings?.find((s) => (s.port?.number ?? 0) === dst.port);
  return setting?.loadBalancer?.consistentHash;
}

/**
 * route.go HashForHTTPDestination: the subset's port-level hash, else the subset's hash, else the
 * DestinationRule's port-level hash, else its top-level hash.
 */
export function hashForDestination(
  dst: ResolvedDestination,
  rule: IstioDestinationRuleSpec | undefined,
): IstioConsistentHash | undefined {
  if (!rule) return undefined;
  let hash = rule.trafficPolicy?.loadBalancer?.consistentHash;
  const plsHash = portLevelHash(dst, rule.trafficPolicy);
  const subset = rule.subsets?.find((s) => s.name === (dst.subset ?? ""));
  const subsetHash = subset?.trafficPolicy?.loadBalancer?.consistentHash;
  const subsetPlsHash = subset ? portLevelHash(dst, subset.trafficPolicy) : undefined;
  if (subsetPlsHash) hash = subsetPlsHash;
  else if (subsetHash) hash = subsetHash;
  else if (plsHash) hash = plsHash;
  return hash;
}

/**
 * route.go ConsistentHashToHashPolicy. A hash with none of the four keys (only maglev/ringHash tuning)
 * gives no policy; Envoy then hashes nothing and picks hosts at random.
 */
export function consistentHashToHashPolicy(
  hash: IstioConsistentHash | undefined,
): EnvoyHashPolicy | undefined {
  if (!hash) return undefined;
  if (hash.httpHeaderName !== undefined) return { header: { headerName: hash.httpHeaderName } };
  if (hash.httpCookie !== undefined) {
    const c = hash.httpCookie;
    const attributes = c.attributes ?? [];
    return {
      cookie: {
        name: c.name,
        ...(c.ttl !== undefined ? { ttl: protoDuration(c.ttl) } : {}),
        // An empty path is proto3's default and is not printed.
        ...(c.path ? { path: c.path } : {}),
        ...(attributes.length > 0
          ? { attributes: attributes.map((a) => ({ name: a.name, ...(a.value ? { value: a.value } : {}) })) }
          : {}),
      },
    };
  }
  // The oneof is set even for `useSourceIp: false`; proto3 JSON then omits the false bool.
  if (hash.useSourceIp !== undefined) {
    return { connectionProperties: hash.useSourceIp ? { sourceIp: true } : {} };
  }
  if (hash.httpQueryParameterName !== undefined)
    return { queryParameter: { name: hash.httpQueryParameterName } };
  return undefined;
}

export const STATEFUL_SESSION_FILTER = "envoy.filters.http.stateful_session";
const PERSISTENT_SESSION_LABEL = "istio.io/persistent-session";
const PERSISTENT_SESSION_HEADER_LABEL = "istio.io/persistent-session-header";

/**
 * util.go MaybeBuildStatefulSessionFilterConfig wrapped in a StatefulSessionPerRoute as TranslateRoute
 * puts it under the route's typedPerFilterConfig. The cookie label's value is `name` or `name:path`
 * (path "/" by default); the cookie has no ttl, i.e. a browser session cookie.
 */
export function statefulSessionPerRoute(
  service: KubeObject | undefined,
  enabled: boolean,
): TypedAny | undefined {
  if (!service || !enabled) return undefined;
  const labels = service.metadata.labels ?? {};
  const cookie = labels[PERSISTENT_SESSION_LABEL] ?? "";
  const header = labels[PERSISTENT_SESSION_HEADER_LABEL] ?? "";
  let sessionState: TypedAny | undefined;
  if (cookie !== "") {
    const colon = cookie.indexOf(":");
    const name = colon < 0 ? cookie : cookie.slice(0, colon);
    const path = colon < 0 ? "/" : cookie.slice(colon + 1);
    sessionState = {
      "@type": "type.googleapis.com/envoy.extensions.http.stateful_session.cookie.v3.CookieBasedSessionState",
      cookie: { name, ...(path ? { path } : {}) },
    };
  } else if (header !== "") {
    sessionState = {
      "@type": "type.googleapis.com/envoy.extensions.http.stateful_session.header.v3.HeaderBasedSessionState",
      name: header,
    };
  }
  if (!sessionState) return undefined;
  const name = cookie !== "" ? "envoy.http.stateful_session.cookie" : "envoy.http.stateful_session.header";
  return {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.stateful_session.v3.StatefulSessionPerRoute",
    statefulSession: { sessionState: { name, typedConfig: sessionState } },
  };
}
