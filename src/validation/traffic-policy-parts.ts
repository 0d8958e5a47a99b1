/**
 * Two parts of istiod's traffic-policy checks that come from its agent package
 * (istio/istio pkg/config/validation/agent/validation.go): ValidateLocalityLbSetting and ValidateTLS
 * for ClientTLSSettings, with Istio's messages. Go walks the `to` map of a distribute rule in random
 * order; here it is the manifest's order, so of two faults the first written is the one reported.
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import { goQuote } from "./istio-names.js";

export interface PartProblem {
  /** Below the checked block. */
  readonly path: FieldPath;
  readonly message: string;
  readonly warning?: boolean;
}

const TOPOLOGY_LABELS = new Set([
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
  "topology.istio.io/subzone",
]);

export function localityLbProblems(setting: unknown, outlier: unknown): PartProblem[] {
  if (setting === undefined || setting === null) return [];
  const out: PartProblem[] = [];
  const distribute = asArray(get(setting, "distribute"));
  const failover = asArray(get(setting, "failover"));
  const failoverPriority = asArray(get(setting, "failoverPriority"));
  if (distribute.length > 0 && failover.length > 0) {
    return [{ path: [], message: "can not simultaneously specify 'distribute' and 'failover'" }];
  }
  if (failover.length > 0) {
    for (const [i, label] of failoverPriority.entries()) {
      if (typeof label === "string" && TOPOLOGY_LABELS.has(label)) {
        return [
          {
            path: ["failoverPriority", i],
            message: `can not simultaneously set 'failover' and topology label '${label}' in 'failover_priority'`,
          },
        ];
      }
    }
  }
  const sources: string[] = [];
  for (const [i, rule] of distribute.entries()) {
    sources.push(String(get(rule, "from") ?? ""));
    const to = get(rule, "to");
    const entries = to !== null && typeof to === "object" ? Object.entries(to) : [];
    let total = 0;
    for (const [locality, weight] of entries) {
      const w = typeof weight === "number" ? weight : 0;
      if (w <= 0 || w > 100) {
        return [
          ...out,
          { path: ["distribute", i, "to", locality], message: "locality weight must be in range [1, 100]" },
        ];
      }
      total += w;
    }
    if (total !== 100)
      return [...out, { path: ["distribute", i, "to"], message: `total locality weight ${total} != 100` }];
    const problem = localitiesProblem(entries.map(([locality]) => locality));
    if (problem) out.push({ path: ["distribute", i, "to"], message: problem });
  }
  const fromProblem = localitiesProblem(sources);
  if (fromProblem) out.push({ path: ["distribute"], message: fromProblem });
  if ((failover.length > 0 || failoverPriority.length > 0) && (outlier === undefined || outlier === null)) {
    out.push({ path: [], message: "outlier detection policy must be provided for failover", warning: true });
  }
  for (const [i, rule] of failover.entries()) {
    const from = String(get(rule, "from") ?? "");
    const to = String(get(rule, "to") ?? "");
    const at = ["failover", i];
    if (from === to)
      out.push({ path: at, message: "locality lb failover settings must specify different regions" });
    if (from.includes("/") || to.includes("/"))
      out.push({ path: at, message: "locality lb failover only specify region" });
    if (from.includes("*") || to.includes("*")) {
      out.push({ path: at, message: "locality lb failover region should not contain '*' wildcard" });
    }
  }
  return out;
}

/** validateLocalities: the first problem of a list of `region[/zone[/subzone]]` with an optional final `*`. */
function localitiesProblem(localities: readonly string[]): string | undefined {
  // region → zone → subzones; "*" at a level covers everything below it.
  const seen = new Map<string, Map<string, Set<string>>>();
  for (const locality of localities) {
    const stars = locality.split("*").length - 1;
    if (stars > 1 || (stars === 1 && !locality.endsWith("*"))) {
      return `locality ${locality} wildcard '*' number can not exceed 1 and must be in the end`;
    }
    const overlap = `locality ${locality} overlap with previous specified ones`;
    if (seen.has("*")) return overlap;
    const parts = splitN(locality, "/", 3);
    if (parts.some((p) => p === ""))
      return `locality ${locality} must not contain empty region/zone/subzone info`;
    const [region = "", zone = "", subzone = ""] = parts;
    const zones = seen.get(region);
    if (parts.length === 1) {
      if (zones) return overlap;
      seen.set(region, new Map([["*", new Set(["*"])]]));
    } else if (parts.length === 2) {
      if (zones?.has("*") || zones?.has(zone)) return overlap;
      if (zones) zones.set(zone, new Set(["*"]));
      else seen.set(region, new Map([[zone, new Set(["*"])]]));
    } else {
      if (zones?.has("*")) return overlap;
      const subzones = zones?.get(zone);
      if (subzones?.has("*") || subzones?.has(subzone)) return overlap;
      if (subzones) subzones.add(subzone);
      else if (zones) zones.set(zone, new Set([subzone]));
      else seen.set(region, new Map([[zone, new Set([subzone])]]));
    }
  }
  return undefined;
}

/** Go's strings.SplitN. */
function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

const CONFIGMAP_PREFIX = "configmap://";

/**
 * What ValidateTLS says of a configmap:// credentialName: credentials.ParseResourceName wants
 * configmap://<namespace>/<name> (the namespace is not implied), and the namespace must be the rule's.
 */
function configMapCredentialProblem(credentialName: string, namespace: string): string | undefined {
  // Go reads split[0] and split[1] of the part after the prefix; further segments are ignored.
  const [credentialNamespace = "", name] = credentialName.slice(CONFIGMAP_PREFIX.length).split("/");
  const invalid = (what: string) =>
    `invalid configmap:// credentialName: invalid resource name ${goQuote(credentialName)}. Expected ${what}`;
  if (name === undefined) return invalid("namespace and name");
  if (credentialNamespace === "") return invalid("namespace");
  if (name === "") return invalid("name");
  if (credentialNamespace !== namespace || namespace === "") {
    return `invalid configmap:// credentialName: namespace must match the configuration namespace ${goQuote(namespace)}`;
  }
  return undefined;
}

/** ClientTLSSettings.TLSmode: jsonpb reads the name or the number. */
const TLS_MODES = ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"];

/** ValidateTLS for a DestinationRule's ClientTLSSettings. */
export function clientTlsProblems(tls: unknown, namespace: string): string[] {
  if (tls === undefined || tls === null) return [];
  const out: string[] = [];
  const text = (key: string) => (typeof get(tls, key) === "string" ? (get(tls, key) as string) : "");
  const rawMode = get(tls, "mode");
  const mode = typeof rawMode === "number" ? (TLS_MODES[rawMode] ?? "") : text("mode") || "DISABLE";
  const credentialName = text("credentialName");
  // Go tests `SubjectAltNames != nil`; jsonpb leaves an empty JSON list nil, so `[]` is unset.
  const hasSubjectAltNames = asArray(get(tls, "subjectAltNames")).length > 0;
  if (credentialName.startsWith(CONFIGMAP_PREFIX)) {
    const problem = configMapCredentialProblem(credentialName, namespace);
    if (problem) out.push(problem);
  }
  if (get(tls, "insecureSkipVerify") === true) {
    if (mode === "SIMPLE" && (text("caCertificates") || credentialName || hasSubjectAltNames)) {
      out.push(
        "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true",
      );
    }
    if (mode === "MUTUAL" && (text("caCertificates") || hasSubjectAltNames)) {
      out.push("cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true");
    }
  }
  if ((mode === "SIMPLE" || mode === "MUTUAL") && credentialName) {
    if (text("clientCertificate") || text("caCertificates") || text("privateKey") || text("caCrl")) {
      out.push("cannot specify client certificates or CA certificate or CA CRL If credentialName is set");
    }
    return out;
  }
  if (mode === "MUTUAL") {
    if (!text("clientCertificate")) out.push("client certificate required for mutual tls");
    if (!text("privateKey")) out.push("private key required for mutual tls");
  }
  return out;
}
