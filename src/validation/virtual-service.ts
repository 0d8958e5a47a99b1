/**
 * istiod's ValidateVirtualService (istio/istio pkg/config/validation/validation.go, Istio 1.30): a
 * delegate's limits, gateways, JWT-claim routing, hosts and their overlaps, each HTTP, TLS and TCP
 * route, exportTo, then warnings for rules that can never apply.
 */
import { asArray, get } from "../manifests/json-path.js";
import { decodedString } from "./decoded-values.js";
import { type AdmissionFinding, Findings } from "./findings.js";
import { checkHttpRoute } from "./http-route.js";
import { isIpAddress, wildcardDomainProblem } from "./istio-names.js";
import { checkExportTo, checkMetadata } from "./object-checks.js";
import { checkTcpRoute, checkTlsRoute } from "./tcp-tls-routes.js";
import { checkUnreachableRules } from "./unreachable-rules.js";
import {
  checkGatewayNames,
  gatewayBoundDomainProblem,
  goList,
  hostsOverlap,
  isJwtClaimRoute,
} from "./vs-names.js";

/** Set by istiod on the VirtualServices it generates from Gateway API routes. */
const ROUTE_SEMANTICS = "internal.istio.io/route-semantics";

const strings = (value: unknown): string[] =>
  asArray(value)
    .map(decodedString)
    .filter((s): s is string => s !== undefined);

export function validateVirtualService(object: unknown, namespace: string, name: string): AdmissionFinding[] {
  const out = new Findings();
  if (checkMetadata(out, object, namespace, name)) return [...out.list];
  const spec = get(object, "spec");
  const hosts = strings(get(spec, "hosts"));
  const gateways = strings(get(spec, "gateways"));
  const http = asArray(get(spec, "http"));
  const tls = asArray(get(spec, "tls"));
  const tcp = asArray(get(spec, "tcp"));

  // Without hosts this is a delegate, which only HTTP routes of a root VirtualService reach.
  const delegate = hosts.length === 0;
  if (delegate) {
    if (gateways.length > 0)
      out.error(["spec", "gateways"], "delegate virtual service must have no gateways specified");
    if (tls.length > 0)
      out.error(["spec", "tls"], "delegate virtual service must have no tls route specified");
    if (tcp.length > 0)
      out.error(["spec", "tcp"], "delegate virtual service must have no tcp route specified");
  }
  const gatewaySemantics = get(object, "metadata", "annotations", ROUTE_SEMANTICS) === "gateway";

  // Without gateways it applies to sidecars ("mesh"); listing mesh keeps it on sidecars too.
  let appliesToGateway = false;
  if (gateways.length > 0) {
    checkGatewayNames(out, ["spec", "gateways"], asArray(get(spec, "gateways")), gatewaySemantics);
    appliesToGateway = !gateways.includes("mesh");
  }
  const appliesToMesh = !appliesToGateway;

  // Sidecars do not validate JWTs, so they cannot route on claims.
  if (!appliesToGateway) {
    for (const [i, route] of http.entries()) {
      for (const [j, match] of asArray(get(route, "match")).entries()) {
        for (const key of ["headers", "withoutHeaders"]) {
          const map = get(match, key);
          if (map === null || typeof map !== "object" || Array.isArray(map)) continue;
          for (const header of Object.keys(map)) {
            if (!isJwtClaimRoute(header)) continue;
            out.error(
              ["spec", "http", i, "match", j, key, header],
              `JWT claim based routing (key: ${header}) is only supported for gateway, found no gateways: ${goList(gateways)}`,
            );
          }
        }
      }
    }
  }

  checkHosts(out, hosts, appliesToGateway, appliesToMesh, sniRoutes(tls));

  if (http.length === 0 && tcp.length === 0 && tls.length === 0) {
    out.error(["spec"], "http, tcp or tls must be provided in virtual service");
  }
  // A `null` route decodes as an empty one, so Go's "http route may not be null" never fires here.
  for (const [i, route] of http.entries())
    checkHttpRoute(out, ["spec", "http", i], route, delegate, gatewaySemantics);
  for (const [i, route] of tls.entries())
    checkTlsRoute(out, ["spec", "tls", i], route, { hosts, gateways }, gatewaySemantics);
  for (const [i, route] of tcp.entries()) checkTcpRoute(out, ["spec", "tcp", i], route, gatewaySemantics);

  checkExportTo(out, object, namespace, false);
  checkUnreachableRules(out, spec);
  return [...out.list];
}

/** isSniHost: some TLS match names SNI hosts. */
function sniRoutes(tls: readonly unknown[]): boolean {
  return tls.some((route) =>
    asArray(get(route, "match")).some((match) => asArray(get(match, "sniHosts")).length > 0),
  );
}

/**
 * Each host is a (wildcard) domain — an IP address passes whatever the check says. Hosts bound to
 * gateways with SNI routes may be Envoy's `outbound_` names; sidecars may not take `*` (it would
 * capture all outbound traffic). Overlapping hosts (`*.foo.bar` and `*.bar`) are only compared
 * when all hosts are valid.
 */
function checkHosts(
  out: Findings,
  hosts: readonly string[],
  toGateway: boolean,
  toMesh: boolean,
  sni: boolean,
): void {
  let allValid = true;
  for (const [i, host] of hosts.entries()) {
    const at = ["spec", "hosts", i];
    const problem = toGateway ? gatewayBoundDomainProblem(sni, host) : wildcardDomainProblem(host);
    if (problem) {
      if (!isIpAddress(host)) {
        out.error(at, problem);
        allValid = false;
      }
    } else if (toMesh && host === "*") {
      out.error(at, "wildcard host * is not allowed for virtual services bound to the mesh gateway");
      allValid = false;
    }
  }
  if (!allValid) return;
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) {
      const a = hosts[i] ?? "";
      const b = hosts[j] ?? "";
      if (hostsOverlap(a, b))
        out.error(["spec", "hosts", j], `duplicate hosts in virtual service: ${a} & ${b}`);
    }
  }
}
