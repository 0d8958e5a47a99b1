/**
 * Checks istiod's webhook makes on every networking object, or on several kinds
 * (istio/istio pkg/config/validation/validation.go: validateMetadata, validateExportTo,
 * validateWorkloadSelector; pkg/config/visibility).
 */
import { asArray, get } from "../manifests/json-path.js";
import type { Findings } from "./findings.js";
import { goQuote, isDns1123Label } from "./istio-names.js";

const REJECTED_ANNOTATIONS = ["internal.istio.io/parent-namespace", "internal.istio.io/parents"];

/** validateMetadata: annotations users may not set. True when the object goes no further. */
export function checkMetadata(out: Findings, object: unknown, namespace: string, name: string): boolean {
  const annotations = get(object, "metadata", "annotations");
  const has = (key: string) => annotations !== null && typeof annotations === "object" && key in annotations;
  const at = ["metadata", "annotations"];
  if (has("istio.io/dry-run")) {
    out.error(
      at,
      `${namespace}/${name} has unsupported annotation istio.io/dry-run, please remove the annotation`,
    );
    return true;
  }
  if (has("internal.istio.io/webhook-always-reject")) {
    out.error(at, '"internal.istio.io/webhook-always-reject" annotation found, rejecting');
    return true;
  }
  for (const key of REJECTED_ANNOTATIONS) {
    if (has(key)) {
      out.error(at, `${JSON.stringify(key)} annotation found, this may not be set by users`);
      return true;
    }
  }
  return false;
}

function visibilityProblem(value: string): string | undefined {
  if (value === "." || value === "*") return undefined;
  if (value === "~") return "exportTo ~ (none) is not allowed for Istio configuration objects";
  return isDns1123Label(value)
    ? undefined
    : "only .,*, or a valid DNS 1123 label is allowed as exportTo entry";
}

/** validateExportTo for DestinationRules and VirtualServices (`~` is only for ServiceEntries). */
export function checkExportTo(
  out: Findings,
  object: unknown,
  namespace: string,
  drWithSelector: boolean,
): void {
  const list = asArray(get(object, "spec", "exportTo"));
  if (list.length === 0) return;
  const seen = new Set<string>();
  for (const [i, item] of list.entries()) {
    // jsonpb decodes a `null` element of a string list as ""; other types fail decoding.
    const entry = item === null ? "" : item;
    if (typeof entry !== "string") continue;
    const at = ["spec", "exportTo", i];
    // "." is this namespace, so "." beside the namespace's own name is a duplicate.
    const key = entry === "." ? namespace : entry;
    if (seen.has(key)) {
      out.error(
        at,
        key !== entry
          ? `duplicate entries in exportTo: . and current namespace ${namespace}`
          : `duplicate entries in exportTo for entry ${entry}`,
      );
      continue;
    }
    const problem = visibilityProblem(key);
    if (problem) out.error(at, problem);
    else seen.add(key);
  }
  const at = ["spec", "exportTo"];
  if (drWithSelector && seen.size > 0) {
    if (!seen.has(namespace)) {
      out.error(at, "destination rule with workload selector cannot have exportTo beyond current namespace");
    } else if (seen.size > 1) {
      out.error(at, "destination rule with workload selector cannot have multiple entries in exportTo");
    }
  }
  if (seen.has("*") && list.length > 1) {
    out.error(at, "cannot have both public (*) and non-public exportTo values for a resource");
  }
}

/** validateWorkloadSelector (Go walks the labels map in random order; here in the manifest's). */
export function checkWorkloadSelector(out: Findings, object: unknown): void {
  const selector = get(object, "spec", "workloadSelector");
  if (selector === undefined || selector === null) return;
  const labels = get(selector, "matchLabels");
  const entries = labels !== null && typeof labels === "object" ? Object.entries(labels) : [];
  const at = ["spec", "workloadSelector", "matchLabels"];
  for (const [key, raw] of entries) {
    // A `null` label value decodes to "".
    const value = raw === null ? "" : String(raw);
    const pair = goQuote(`${key}=${value}`);
    if (key === "") out.error(at, `empty key is not supported in selector: ${pair}`);
    if (key.includes("*") || value.includes("*"))
      out.error([...at, key], `wildcard is not supported in selector: ${pair}`);
  }
  if (entries.length === 0)
    out.warn(["spec", "workloadSelector"], "workload selector specified without labels");
}
