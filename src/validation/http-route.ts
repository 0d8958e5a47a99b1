/**
 * istiod's validateHTTPRoute (istio/istio pkg/config/validation/virtualservice.go, Istio 1.30): what
 * may be combined in one route, its matches, header operations, then each feature in Go's order.
 * Values come from YAML the way istiod's decoder reads them: a `null` list entry or map value is an
 * empty message, so Go's "may not be null" checks for those never fire through the webhook.
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import { isSet, num, str } from "./decoded-values.js";
import { checkDestination, checkRouteDestinations } from "./destinations.js";
import type { Findings } from "./findings.js";
import { checkHeaderOperations, matchHeaderNameProblem } from "./header-names.js";
import {
  checkAuthorityRewrite,
  checkCorsPolicy,
  checkDirectResponse,
  checkFault,
  checkRedirect,
  checkRetries,
  checkRewrite,
  mirrorPercentageProblems,
} from "./http-route-parts.js";
import { isDns1123Label } from "./istio-names.js";
import { readStringMatch, stringMatchProblem, stringMatchRegexProblem } from "./string-match.js";
import { checkMatchSource } from "./tcp-tls-routes.js";
import { checkDuration } from "./traffic-policy.js";

/**
 * `delegate`: the route belongs to a delegate VirtualService (one without hosts);
 * `gatewaySemantics`: it was generated from a Gateway API route (destinations are not checked).
 */
export function checkHttpRoute(
  out: Findings,
  path: FieldPath,
  route: unknown,
  delegate: boolean,
  gatewaySemantics: boolean,
): void {
  checkConflicts(out, path, route, delegate);
  checkMatchRequests(out, [...path, "match"], get(route, "match"));
  checkHeaderOperations(out, [...path, "headers"], get(route, "headers"));
  checkCorsPolicy(out, [...path, "corsPolicy"], get(route, "corsPolicy"));
  checkFault(out, [...path, "fault"], get(route, "fault"));
  checkMirrorPercent(out, path, route);
  const mirrorPercentage = get(route, "mirrorPercentage");
  if (isSet(mirrorPercentage)) {
    const value = num(get(mirrorPercentage, "value")) ?? 0;
    for (const problem of mirrorPercentageProblems(value, "mirror_percentage"))
      out.error([...path, "mirrorPercentage", "value"], problem);
  }
  checkDestination(out, [...path, "mirror"], get(route, "mirror"));
  checkMirrors(out, [...path, "mirrors"], get(route, "mirrors"));
  checkRedirect(out, [...path, "redirect"], get(route, "redirect"));
  checkDirectResponse(out, [...path, "directResponse"], get(route, "directResponse"));
  checkRetries(out, [...path, "retries"], get(route, "retries"));
  checkRewrite(out, [...path, "rewrite"], get(route, "rewrite"));
  checkAuthorityRewrite(out, path, get(route, "rewrite"), get(route, "headers"));
  checkRouteDestinations(out, [...path, "route"], get(route, "route"), gatewaySemantics, true);
  checkDuration(out, [...path, "timeout"], get(route, "timeout"));
}

/**
 * validateHTTPRouteConflict. A root route (one that delegates) may only match and delegate; the
 * rest of a route needs exactly one of route, redirect and direct response.
 */
function checkConflicts(out: Findings, path: FieldPath, route: unknown, delegate: boolean): void {
  const has = (key: string) => isSet(get(route, key));
  const hasRoute = asArray(get(route, "route")).length > 0;
  // Go prints the route's name with %s, so an unnamed route reads "root HTTP route  must …".
  const name = str(get(route, "name")) ?? "";
  if (!delegate && has("delegate")) {
    if (has("redirect"))
      out.error([...path, "redirect"], `root HTTP route ${name} must not specify redirect`);
    if (hasRoute) out.error([...path, "route"], `root HTTP route ${name} must not specify route`);
    return;
  }
  if (delegate && has("delegate"))
    out.error([...path, "delegate"], "delegate HTTP route cannot contain delegate");
  if (has("redirect")) {
    const at = [...path, "redirect"];
    if (hasRoute) out.error(at, "HTTP route cannot contain both route and redirect");
    if (has("fault")) out.error(at, "HTTP route cannot contain both fault and redirect");
    if (has("rewrite")) out.error(at, "HTTP route rule cannot contain both rewrite and redirect");
    if (has("directResponse"))
      out.error(at, "HTTP route rule cannot contain both direct_response and redirect");
  } else if (has("directResponse")) {
    const at = [...path, "directResponse"];
    if (hasRoute) out.error(at, "HTTP route cannot contain both route and direct_response");
    if (has("fault")) out.error(at, "HTTP route cannot contain both fault and direct_response");
    if (has("rewrite")) out.error(at, "HTTP route rule cannot contain both rewrite and direct_response");
  } else if (!hasRoute) {
    out.error(path, "HTTP route, redirect or direct_response is required");
  }
  if (has("mirror") && asArray(get(route, "mirrors")).length > 0) {
    out.error([...path, "mirrors"], "HTTP route cannot contain both mirror and mirrors");
  }
}

function entries(map: unknown): [string, unknown][] {
  return map !== null && typeof map === "object" && !Array.isArray(map) ? Object.entries(map) : [];
}

/**
 * validateHTTPRouteMatchRequest: first the string matches of every match, then ports, source
 * labels, gateways and source namespaces. A `uri` may be an empty prefix (Envoy's route match
 * allows it); scheme, method, authority, headers and query parameters may not. A withoutHeaders
 * regex of exactly `*` means "header absent" and is not compiled. The gateways' legacy-name
 * warnings are dropped: Go joins this part with appendErrors, which keeps errors only.
 */
function checkMatchRequests(out: Findings, path: FieldPath, matches: unknown): void {
  const list = asArray(matches);
  for (const [i, match] of list.entries()) {
    const at = [...path, i];
    for (const [name, value] of entries(get(match, "headers"))) {
      const nameProblem = matchHeaderNameProblem(name);
      if (nameProblem) out.error([...at, "headers", name], nameProblem);
      const problem = stringMatchProblem(value, "headers");
      if (problem) out.error([...at, "headers", name], problem);
    }
    for (const [name, value] of entries(get(match, "withoutHeaders"))) {
      const nameProblem = matchHeaderNameProblem(name);
      if (nameProblem) out.error([...at, "withoutHeaders", name], nameProblem);
      const { type, value: text } = readStringMatch(value);
      const problem =
        type === "regex" && text === "*" ? undefined : stringMatchProblem(value, "withoutHeaders");
      if (problem) out.error([...at, "withoutHeaders", name], problem);
    }
    const uriProblem = stringMatchRegexProblem(get(match, "uri"), "uri");
    if (uriProblem) out.error([...at, "uri"], uriProblem);
    for (const key of ["scheme", "method", "authority"]) {
      const problem = stringMatchProblem(get(match, key), key);
      if (problem) out.error([...at, key], problem);
    }
    for (const [name, value] of entries(get(match, "queryParams"))) {
      const problem = stringMatchProblem(value, "queryParams");
      if (problem) out.error([...at, "queryParams", name], problem);
    }
  }
  for (const [i, match] of list.entries()) {
    const at = [...path, i];
    checkMatchSource(out, out.withoutWarnings(), at, match);
    const namespace = str(get(match, "sourceNamespace")) ?? "";
    if (namespace !== "" && !isDns1123Label(namespace)) {
      out.error([...at, "sourceNamespace"], `sourceNamespace match ${namespace} is invalid`);
    }
  }
}

/**
 * The deprecated mirrorPercent, which the decoder also takes under its proto name mirror_percent
 * (the CRD schema lists both; the JSON name wins when both are given).
 */
function checkMirrorPercent(out: Findings, path: FieldPath, route: unknown): void {
  const record = route !== null && typeof route === "object" ? (route as Record<string, unknown>) : {};
  const key = "mirrorPercent" in record ? "mirrorPercent" : "mirror_percent";
  const value = record[key];
  if (!isSet(value)) return;
  const percent = num(value) ?? 0;
  if (percent > 100)
    out.error([...path, key], `mirror_percent must have a max value of 100 (it has ${percent})`);
  out.warn([...path, key], 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead');
}

/** validateHTTPMirrors. A `null` entry decodes as an empty policy, so it lacks a destination. */
function checkMirrors(out: Findings, path: FieldPath, mirrors: unknown): void {
  for (const [i, mirror] of asArray(mirrors).entries()) {
    const at = [...path, i];
    const destination = get(mirror, "destination");
    if (!isSet(destination)) {
      out.error([...at, "destination"], "destination is required for mirrors");
      continue;
    }
    checkDestination(out, [...at, "destination"], destination);
    const percentage = get(mirror, "percentage");
    if (isSet(percentage)) {
      const value = num(get(percentage, "value")) ?? 0;
      for (const problem of mirrorPercentageProblems(value, "mirror percentage"))
        out.error([...at, "percentage", "value"], problem);
    }
  }
}
