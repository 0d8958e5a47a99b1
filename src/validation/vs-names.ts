/**
 * Name checks istiod's VirtualService validation uses beyond the shared ones in istio-names.ts
 * (istio/istio pkg/config/validation/validation.go, agent/validation.go, pkg/config/host/name.go,
 * pkg/jwt/routing.go).
 */
import type { FieldPath } from "../manifests/types.js";
import { decodedString } from "./decoded-values.js";
import type { Findings } from "./findings.js";
import { fqdnProblem, goQuote, isDns1123Label, isIpAddress, wildcardDomainProblem } from "./istio-names.js";

/** Go's `%v` of a []string: `[a b]`, `[]`. */
export function goList(values: readonly string[]): string {
  return `[${values.join(" ")}]`;
}

const isWildcarded = (h: string) => h.startsWith("*");

/** host.Name.Matches: equal, or one wildcard covers the other (`*.foo.bar` and `*.bar` overlap). */
export function hostsOverlap(a: string, b: string): boolean {
  if (isWildcarded(a)) {
    if (isWildcarded(b))
      return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
    return b.endsWith(a.slice(1));
  }
  if (isWildcarded(b)) return a.endsWith(b.slice(1));
  return a === b;
}

/** host.Name.SubsetOf: `a` is covered by `b`. */
export function hostSubsetOf(a: string, b: string): boolean {
  if (isWildcarded(a)) {
    if (!isWildcarded(b) || a.length < b.length) return false;
    return a.slice(1).endsWith(b.slice(1));
  }
  if (isWildcarded(b)) return a.endsWith(b.slice(1));
  return a === b;
}

const JWT_CLAIM = "@request.auth.claims";

/** jwt.ToRoutingClaim(name).Match: `@request.auth.claims.<x>` or `@request.auth.claims[<x>]`, prefix in any case. */
export function isJwtClaimRoute(name: string): boolean {
  if (!name.toLowerCase().startsWith(JWT_CLAIM)) return false;
  const rest = name.slice(JWT_CLAIM.length);
  return rest.startsWith(".") || (rest.startsWith("[") && rest.endsWith("]"));
}

const OUTBOUND_FORMAT = "outbound_.<PORT>_._.<HOSTNAME>";

/**
 * agent.ValidateWildcardDomainForVirtualServiceBoundToGateway: with SNI routes, the names Envoy
 * generates for AUTO_PASSTHROUGH (`outbound_.80_._.foo.svc.cluster.local`) are hosts too.
 */
export function gatewayBoundDomainProblem(sni: boolean, domain: string): string | undefined {
  if (domain.length > 255) return `domain name ${goQuote(domain)} too long (max 255)`;
  if (domain === "") return "empty domain name not allowed";
  if (sni && domain.startsWith("outbound_")) {
    const parts = domain.split("_");
    if (parts.length < 4) return `domain name ${domain} invalid, should follow '${OUTBOUND_FORMAT}' format`;
    const trimDots = (s: string) => s.replace(/^\.+|\.+$/g, "");
    const port = trimDots(parts[1] ?? "");
    const hostname = trimDots(parts[3] ?? "");
    // Go matches `([0-9].*)` and `([a-zA-Z].*)` anywhere: a digit, a letter.
    if (!/[0-9]/.test(port)) {
      return `domain name ${goQuote(domain)} invalid (label ${goQuote(port)} invalid). should follow ${OUTBOUND_FORMAT} format`;
    }
    if (!/[a-zA-Z]/.test(hostname)) {
      return `domain name ${goQuote(domain)} invalid (label ${goQuote(hostname)} invalid). should follow ${OUTBOUND_FORMAT} format`;
    }
    return undefined;
  }
  return wildcardDomainProblem(domain);
}

/** Go's netip.ParsePrefix: an address, `/`, then bits without sign or leading zero, in range, no zone. */
function isIpPrefix(value: string): boolean {
  const slash = value.lastIndexOf("/");
  const address = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!isIpAddress(address) || address.includes("%")) return false;
  if (!/^(?:0|[1-9][0-9]*)$/.test(bits)) return false;
  return Number(bits) <= (address.includes(":") ? 128 : 32);
}

/** agent.ValidateIPSubnet: CIDR notation when there is exactly one `/`, else an address. */
export function ipSubnetProblem(subnet: string): string | undefined {
  if (subnet.split("/").length === 2) {
    return isIpPrefix(subnet) ? undefined : `${subnet} is not a valid CIDR block`;
  }
  return isIpAddress(subnet) ? undefined : `${subnet} is not a valid IP`;
}

/**
 * validateGatewayNames. A name without `/` is the legacy `<name>.<namespace>` form (warned) or a
 * short name such as `mesh`; Go returns after checking the first such name, so the names after it
 * are not looked at. `gatewaySemantics` (routes generated from the Gateway API) allows any name.
 */
export function checkGatewayNames(
  out: Findings,
  path: FieldPath,
  names: readonly unknown[],
  gatewaySemantics: boolean,
): void {
  for (const [i, entry] of names.entries()) {
    const name = decodedString(entry);
    if (name === undefined) continue;
    const at = [...path, i];
    const slash = name.indexOf("/");
    if (slash === -1) {
      if (name.includes(".")) {
        const parts = name.split(".");
        out.warn(
          at,
          `using legacy gatewayName format ${goQuote(name)}; prefer the <namespace>/<name> format: ${goQuote(`${parts[1]}/${parts[0]}`)}`,
        );
      }
      const problem = fqdnProblem(name);
      if (problem) out.error(at, problem);
      return;
    }
    const namespace = name.slice(0, slash);
    const gateway = name.slice(slash + 1);
    if (namespace === "" || gateway === "")
      out.error(at, "config namespace and gateway name cannot be empty");
    if (!isDns1123Label(namespace)) out.error(at, `invalid value for namespace: ${goQuote(namespace)}`);
    if (!isDns1123Label(gateway) && !gatewaySemantics)
      out.error(at, `invalid value for gateway name: ${goQuote(gateway)}`);
  }
}
