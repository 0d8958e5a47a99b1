/**
 * istiod's ValidateDestinationRule (istio/istio pkg/config/validation/validation.go, Istio 1.30):
 * host, the top-level traffic policy, subsets (their traffic policies' warnings are dropped, as
 * Istio's appendErrors drops them), exportTo, workload selector — once the spec has decoded.
 */
import { asArray, get } from "../manifests/json-path.js";
import { destinationRuleDecodeProblem } from "./destination-rule-decode.js";
import { type AdmissionFinding, Findings } from "./findings.js";
import { labelProblems, subsetNameProblem, wildcardDomainProblem } from "./istio-names.js";
import { checkExportTo, checkMetadata, checkWorkloadSelector } from "./object-checks.js";
import { checkTrafficPolicy } from "./traffic-policy.js";

const isSet = (v: unknown) => v !== undefined && v !== null;

export function validateDestinationRule(
  object: unknown,
  namespace: string,
  name: string,
): AdmissionFinding[] {
  const out = new Findings();
  const spec = get(object, "spec");
  // The webhook decodes the spec before it validates anything (server.go: crd.ConvertObject, then
  // ValidateConfig); a decoding failure is its only answer.
  const undecodable = destinationRuleDecodeProblem(spec);
  if (undecodable) {
    out.error(undecodable.path, undecodable.message);
    return [...out.list];
  }
  if (checkMetadata(out, object, namespace, name)) return [...out.list];
  const host = get(spec, "host");
  const hostProblem = wildcardDomainProblem(typeof host === "string" ? host : "");
  if (hostProblem) out.error(["spec", "host"], hostProblem);
  checkTrafficPolicy(out, ["spec", "trafficPolicy"], get(spec, "trafficPolicy"), namespace);
  const subsets = out.withoutWarnings();
  const names = new Set<string>();
  for (const [i, entry] of asArray(get(spec, "subsets")).entries()) {
    const at = ["spec", "subsets", i];
    // jsonpb decodes a `null` list element as an empty Subset, so Go's "subset may not be null" is
    // never reached through the webhook: the entry is a subset without a name.
    const subset = entry ?? {};
    const subsetName = typeof get(subset, "name") === "string" ? (get(subset, "name") as string) : "";
    if (names.has(subsetName)) subsets.error([...at, "name"], `duplicate subset names: ${subsetName}`);
    names.add(subsetName);
    const nameProblem = subsetNameProblem(subsetName);
    if (nameProblem) subsets.error([...at, "name"], nameProblem);
    const labels = get(subset, "labels");
    if (labels !== null && typeof labels === "object") {
      for (const problem of labelProblems(labels as Record<string, unknown>))
        subsets.error([...at, "labels"], problem);
    }
    checkTrafficPolicy(subsets, [...at, "trafficPolicy"], get(subset, "trafficPolicy"), namespace);
  }
  // rule.GetWorkloadSelector() != nil: a `null` selector decodes to none.
  checkExportTo(out, object, namespace, isSet(get(spec, "workloadSelector")));
  checkWorkloadSelector(out, object);
  return [...out.list];
}
