/**
 * The CEL rules (`x-kubernetes-validations`) of Istio's CRDs for DestinationRule, VirtualService and
 * Gateway (istio/istio manifests/charts/base/files/crd-all.gen.yaml, Istio 1.30; identical in v1,
 * v1beta1 and v1alpha3). The API server evaluates them with the structural schema, before istiod's
 * webhook is asked; the schema package this project validates with has no CEL, so they are stated
 * here. Messages are the API server's (`<field>: Invalid value: "<type>": <message>`, the form of
 * Kubernetes up to 1.34, which Istio's own CRD tests expect).
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import type { AdmissionFinding } from "./findings.js";
import { NS_PER_MS, parseGoDuration } from "./go-duration.js";

const DURATION_MESSAGE = "must be a valid duration greater than 1ms";

/** The API server's field path: `spec.http[0].timeout`, map keys as `matchLabels[key]`. */
export function apiServerPath(path: FieldPath): string {
  let out = "";
  for (const [i, segment] of path.entries()) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (i > 0 && path[i - 1] === "matchLabels") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}

const fail = (path: FieldPath, type: string, message: string): AdmissionFinding => ({
  layer: "crd",
  severity: "error",
  path,
  message: `${apiServerPath(path)}: Invalid value: "${type}": ${message}`,
});

/** `duration(self) >= duration('1ms')` on one string field. */
function durationRule(out: AdmissionFinding[], path: FieldPath, value: unknown): void {
  if (typeof value !== "string") return;
  const parsed = parseGoDuration(value);
  if ("error" in parsed) {
    out.push(
      fail(
        path,
        "string",
        `type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: ${DURATION_MESSAGE}`,
      ),
    );
  } else if (parsed.ns < NS_PER_MS) {
    out.push(fail(path, "string", DURATION_MESSAGE));
  }
}

const POOL_DURATIONS: readonly (readonly string[])[] = [
  ["connectionPool", "http", "idleTimeout"],
  ["connectionPool", "tcp", "connectTimeout"],
  ["connectionPool", "tcp", "maxConnectionDuration"],
  ["connectionPool", "tcp", "tcpKeepalive", "time"],
  ["connectionPool", "tcp", "tcpKeepalive", "interval"],
  ["loadBalancer", "warmup", "duration"],
  ["loadBalancer", "warmupDurationSecs"],
  ["outlierDetection", "baseEjectionTime"],
  ["outlierDetection", "interval"],
];

function trafficPolicyRules(out: AdmissionFinding[], policy: unknown, path: FieldPath): void {
  if (policy === null || typeof policy !== "object") return;
  for (const field of POOL_DURATIONS) durationRule(out, [...path, ...field], get(policy, ...field));
  for (const [i, port] of asArray(get(policy, "portLevelSettings")).entries()) {
    for (const field of POOL_DURATIONS)
      durationRule(out, [...path, "portLevelSettings", i, ...field], get(port, ...field));
  }
}

function destinationRuleRules(object: unknown): AdmissionFinding[] {
  const out: AdmissionFinding[] = [];
  trafficPolicyRules(out, get(object, "spec", "trafficPolicy"), ["spec", "trafficPolicy"]);
  for (const [i, subset] of asArray(get(object, "spec", "subsets")).entries()) {
    trafficPolicyRules(out, get(subset, "trafficPolicy"), ["spec", "subsets", i, "trafficPolicy"]);
  }
  const labels = get(object, "spec", "workloadSelector", "matchLabels");
  if (labels !== null && typeof labels === "object" && !Array.isArray(labels)) {
    const at = ["spec", "workloadSelector", "matchLabels"];
    const keys = Object.keys(labels);
    if (!keys.every((k) => !k.includes("*")))
      out.push(fail(at, "object", "wildcard not allowed in label key match"));
    if (!keys.every((k) => k.length !== 0)) out.push(fail(at, "object", "key must not be empty"));
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value === "string" && value.includes("*")) {
        out.push(fail([...at, key], "string", "wildcard not allowed in label value match"));
      }
    }
  }
  return out;
}

const HTTP_ROUTE_DURATIONS: readonly (readonly string[])[] = [
  ["timeout"],
  ["retries", "perTryTimeout"],
  ["retries", "backoff"],
  ["fault", "delay", "fixedDelay"],
  ["fault", "delay", "exponentialDelay"],
  ["corsPolicy", "maxAge"],
];

function virtualServiceRules(object: unknown): AdmissionFinding[] {
  const out: AdmissionFinding[] = [];
  for (const [i, route] of asArray(get(object, "spec", "http")).entries()) {
    for (const field of HTTP_ROUTE_DURATIONS)
      durationRule(out, ["spec", "http", i, ...field], get(route, ...field));
  }
  return out;
}

function gatewayRules(object: unknown): AdmissionFinding[] {
  const out: AdmissionFinding[] = [];
  for (const [i, server] of asArray(get(object, "spec", "servers")).entries()) {
    const tls = get(server, "tls");
    if (tls === null || typeof tls !== "object") continue;
    const has = (key: string) => key in tls;
    const at = ["spec", "servers", i, "tls"];
    const count = (...keys: string[]) => keys.filter(has).length;
    if (count("tlsCertificates", "credentialNames") > 1) {
      out.push(fail(at, "object", "only one of credentialNames or tlsCertificates can be set"));
    }
    if (count("credentialName", "credentialNames") > 1) {
      out.push(fail(at, "object", "only one of credentialName or credentialNames can be set"));
    }
    // The CRD's third rule tests credentialNames and tlsCertificates again under a message naming
    // credentialName, so credentialName with tlsCertificates passes here (istiod refuses it).
    if (count("credentialNames", "tlsCertificates") > 1) {
      out.push(fail(at, "object", "only one of credentialName or tlsCertificates can be set"));
    }
  }
  return out;
}

const RULES: Readonly<Record<string, (object: unknown) => AdmissionFinding[]>> = {
  DestinationRule: destinationRuleRules,
  VirtualService: virtualServiceRules,
  Gateway: gatewayRules,
};

/** The CEL rules' failures for one networking.istio.io object of `kind`; [] for other kinds. */
export function crdRuleFindings(kind: string, object: unknown): AdmissionFinding[] {
  return RULES[kind]?.(object) ?? [];
}
