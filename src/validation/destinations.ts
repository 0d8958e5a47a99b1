/**
 * Route destinations in istiod's VirtualService validation (istio/istio
 * pkg/config/validation/validation.go: validateDestination, validateHTTPRouteDestinations,
 * validateRouteDestinations). Istio's "weight may not be nil" cannot happen through the webhook:
 * its decoder reads a `null` list entry as an empty message, which then has no destination.
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import { isSet, num, str } from "./decoded-values.js";
import type { Findings } from "./findings.js";
import { checkHeaderOperations } from "./header-names.js";
import { portProblem, subsetNameProblem, wildcardDomainProblem } from "./istio-names.js";

/** validateDestination: host (`*` is not a destination), subset name, port selector. */
export function checkDestination(out: Findings, path: FieldPath, destination: unknown): void {
  if (!isSet(destination)) return;
  const host = str(get(destination, "host")) ?? "";
  if (host === "*") out.error([...path, "host"], "invalid destination host *");
  else {
    const problem = wildcardDomainProblem(host);
    if (problem) out.error([...path, "host"], problem);
  }
  const subset = str(get(destination, "subset")) ?? "";
  if (subset !== "") {
    const problem = subsetNameProblem(subset);
    if (problem) out.error([...path, "subset"], problem);
  }
  const port = get(destination, "port");
  if (isSet(port)) {
    // A port selector without a number is port 0.
    const problem = portProblem(num(get(port, "number")) ?? 0);
    if (problem) out.error([...path, "port", "number"], problem);
  }
}

/**
 * validateHTTPRouteDestinations (`http`: with header operations) and validateRouteDestinations
 * (TCP and TLS). Weights need not add up to 100, but several destinations may not all weigh 0.
 * With Gateway API route semantics the destinations are not checked (they are generated).
 */
export function checkRouteDestinations(
  out: Findings,
  path: FieldPath,
  routes: unknown,
  gatewaySemantics: boolean,
  http: boolean,
): void {
  const list = asArray(routes);
  let total = 0;
  for (const [i, entry] of list.entries()) {
    const at = [...path, i];
    const destination = get(entry, "destination");
    if (!isSet(destination)) out.error([...at, "destination"], "destination is required");
    if (http) checkHeaderOperations(out, [...at, "headers"], get(entry, "headers"));
    if (!gatewaySemantics) checkDestination(out, [...at, "destination"], destination);
    const weight = num(get(entry, "weight")) ?? 0;
    if (weight < 0) out.error([...at, "weight"], `weight ${weight} < 0`);
    // Go sums into an int32.
    total = (total + weight) | 0;
  }
  if (list.length > 1 && total === 0) out.error(path, "total destination weight = 0");
}
