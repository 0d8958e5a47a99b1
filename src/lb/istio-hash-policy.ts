/**
 * Istio's `consistentHash` → Envoy route hash policies (pilot/pkg/networking/core/route/route.go
 * ConsistentHashToHashPolicy): exactly one policy per destination, never terminal. A route with
 * several weighted destinations gets one appended per destination, so identical cookie policies
 * combine to rotl(x,1) XOR x — pass `destinations` to reproduce that.
 */
import { SessionAffinityError } from "../errors.js";
import type { CookieAttribute } from "./cookie.js";
import type { HashPolicy } from "./hash-policy.js";

export interface IstioConsistentHash {
  readonly httpHeaderName?: string;
  readonly httpCookie?: {
    readonly name: string;
    readonly path?: string;
    readonly ttl?: string;
    readonly attributes?: readonly CookieAttribute[];
  };
  readonly useSourceIp?: boolean;
  readonly httpQueryParameterName?: string;
}

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };

/** Whole seconds of a duration such as "0s", "3600s", "1h30m", "0.5s" (Envoy drops the nanos). */
export function durationSeconds(text: string, field = "httpCookie.ttl"): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new SessionAffinityError("ERR_LB_CONFIG", `${field}: '${text}' is not a duration like 3600s`);
  }
  let seconds = 0;
  for (const p of parts) seconds += Number(p[1]) * (UNIT_SECONDS[p[2] as string] as number);
  return Math.floor(seconds + 1e-9);
}

export function hashPolicyFromIstio(consistentHash: IstioConsistentHash): HashPolicy | undefined {
  if (consistentHash.httpHeaderName !== undefined)
    return { kind: "header", name: consistentHash.httpHeaderName };
  const cookie = consistentHash.httpCookie;
  if (cookie !== undefined) {
    if (cookie.name === "")
      throw new SessionAffinityError("ERR_LB_CONFIG", "httpCookie.name: must not be empty");
    return {
      kind: "cookie",
      name: cookie.name,
      path: cookie.path ?? "",
      ...(cookie.ttl === undefined ? {} : { ttlSeconds: durationSeconds(cookie.ttl) }),
      attributes: cookie.attributes ?? [],
    };
  }
  if (consistentHash.useSourceIp) return { kind: "source-ip" };
  if (consistentHash.httpQueryParameterName !== undefined) {
    return { kind: "query", name: consistentHash.httpQueryParameterName };
  }
  return undefined;
}

/** The route's hash policy list for `destinations` weighted destinations sharing one DestinationRule. */
export function routeHashPolicies(consistentHash: IstioConsistentHash, destinations = 1): HashPolicy[] {
  const policy = hashPolicyFromIstio(consistentHash);
  return policy ? Array.from({ length: destinations }, () => policy) : [];
}
