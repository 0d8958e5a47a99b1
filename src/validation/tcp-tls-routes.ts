/**
 * istiod's checks of a VirtualService's TLS and TCP routes (istio/istio
 * pkg/config/validation/validation.go: validateTLSRoute, validateTLSMatch, validateSniHost,
 * validateTCPRoute, validateTCPMatch). A `null` match decodes as an empty one, so Go's
 * "may not be null" messages for matches never fire through the webhook.
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import { decodedString, num } from "./decoded-values.js";
import { checkRouteDestinations } from "./destinations.js";
import type { Findings } from "./findings.js";
import { goQuote, isIpAddress, labelProblems, portProblem, wildcardDomainProblem } from "./istio-names.js";
import { checkGatewayNames, gatewayBoundDomainProblem, hostSubsetOf, ipSubnetProblem } from "./vs-names.js";

/** What SNI hosts are checked against: the VirtualService's hosts and gateways. */
export interface SniContext {
  readonly hosts: readonly string[];
  readonly gateways: readonly string[];
}

/** Subnets, port, source labels and gateways: the part TLS and TCP matches share. */
function checkL4Match(out: Findings, gatewayNames: Findings, at: FieldPath, match: unknown): void {
  for (const [i, entry] of asArray(get(match, "destinationSubnets")).entries()) {
    const subnet = decodedString(entry);
    const problem = subnet === undefined ? undefined : ipSubnetProblem(subnet);
    if (problem) out.error([...at, "destinationSubnets", i], problem);
  }
  checkMatchSource(out, gatewayNames, at, match);
}

/** What every kind of route match may name of its source: a port, pod labels, gateways. */
export function checkMatchSource(out: Findings, gatewayNames: Findings, at: FieldPath, match: unknown): void {
  const port = num(get(match, "port")) ?? 0;
  const portError = port !== 0 ? portProblem(port) : undefined;
  if (portError) out.error([...at, "port"], portError);
  const labels = get(match, "sourceLabels");
  if (labels !== null && typeof labels === "object") {
    for (const problem of labelProblems(labels as Record<string, unknown>))
      out.error([...at, "sourceLabels"], problem);
  }
  checkGatewayNames(gatewayNames, [...at, "gateways"], asArray(get(match, "gateways")), false);
}

/**
 * validateSniHost. Go's isGateway is true unless `mesh` is listed — also with no gateways at all —
 * so SNI hosts usually get the gateway form, which admits Envoy's `outbound_.<port>_._.<host>`
 * names. An IP address is only a warning (SNI carries no IPs); a valid name must fall within one of
 * the VirtualService's hosts.
 */
function checkSniHost(out: Findings, at: FieldPath, sni: string, context: SniContext): void {
  const bound = !context.gateways.includes("mesh");
  const problem = bound ? gatewayBoundDomainProblem(true, sni) : wildcardDomainProblem(sni);
  if (problem) {
    if (isIpAddress(sni)) {
      out.warn(
        at,
        `using an IP address (${goQuote(sni)}) goes against SNI spec and most clients do not support this`,
      );
    } else {
      out.error(at, problem);
    }
    return;
  }
  if (context.hosts.some((host) => hostSubsetOf(sni, host))) return;
  out.error(
    at,
    `SNI host ${goQuote(sni)} is not a compatible subset of any of the virtual service hosts: [${context.hosts.join(", ")}]`,
  );
}

/** validateTLSRoute; unlike TCP and HTTP matches, its gateway names keep their warnings. */
export function checkTlsRoute(
  out: Findings,
  path: FieldPath,
  route: unknown,
  context: SniContext,
  gatewaySemantics: boolean,
): void {
  const matches = asArray(get(route, "match"));
  if (matches.length === 0) out.error([...path, "match"], "TLS route must have at least one match condition");
  for (const [i, match] of matches.entries()) {
    const at = [...path, "match", i];
    const sniHosts = asArray(get(match, "sniHosts"));
    if (sniHosts.length === 0) out.error([...at, "sniHosts"], "TLS match must have at least one SNI host");
    for (const [j, entry] of sniHosts.entries()) {
      const sni = decodedString(entry);
      if (sni !== undefined) checkSniHost(out, [...at, "sniHosts", j], sni, context);
    }
    checkL4Match(out, out, at, match);
  }
  const destinations = get(route, "route");
  if (asArray(destinations).length === 0) out.error([...path, "route"], "TLS route is required");
  checkRouteDestinations(out, [...path, "route"], destinations, gatewaySemantics, false);
}

/** validateTCPRoute; its matches' gateway-name warnings are dropped (appendErrors keeps errors). */
export function checkTcpRoute(
  out: Findings,
  path: FieldPath,
  route: unknown,
  gatewaySemantics: boolean,
): void {
  for (const [i, match] of asArray(get(route, "match")).entries()) {
    checkL4Match(out, out.withoutWarnings(), [...path, "match", i], match);
  }
  const destinations = get(route, "route");
  if (asArray(destinations).length === 0) out.error([...path, "route"], "TCP route is required");
  checkRouteDestinations(out, [...path, "route"], destinations, gatewaySemantics, false);
}
