import {
  type FieldPath,
  isPlainObject,
  type ManifestDocument,
  type ManifestSet,
  objectRef,
} from "../manifests/index.js";
import { asArray, get } from "../manifests/json-path.js";
import { RULES, type RuleId } from "./rules.js";
import type { Finding } from "./types.js";

export { asArray, get };

export type Json = Record<string, unknown>;

/** A workload's pod template, whatever kind carries it. */
export interface Workload {
  readonly doc: ManifestDocument;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly containers: readonly Json[];
  /** Path of the pod spec inside the object. */
  readonly podSpecPath: FieldPath;
  /** spec.replicas as written; undefined when the field is absent. */
  readonly replicas: number | undefined;
}

/** A consistentHash block found in a DestinationRule, with where it sits. */
export interface HashPolicy {
  readonly rule: ManifestDocument;
  readonly path: FieldPath;
  readonly hash: Json;
  readonly scope: "top" | "subset" | "port";
  /** The trafficPolicy the hash belongs to (for sibling settings such as outlierDetection). */
  readonly trafficPolicy: Json;
  readonly trafficPolicyPath: FieldPath;
}

export type HostResolution =
  | { readonly status: "service"; readonly service: ManifestDocument }
  | { readonly status: "external" }
  | { readonly status: "missing"; readonly name: string; readonly elsewhere: ManifestDocument | undefined };

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]);

/** The manifests being linted, indexed for the rules, and the findings collected so far. */
export class LintContext {
  readonly documents: readonly ManifestDocument[];
  readonly findings: Finding[] = [];
  /** Documents with an error finding so far. */
  readonly #rejected = new WeakSet<ManifestDocument>();
  readonly services: readonly ManifestDocument[];
  readonly workloads: readonly Workload[];
  readonly gateways: readonly ManifestDocument[];
  readonly virtualServices: readonly ManifestDocument[];
  readonly destinationRules: readonly ManifestDocument[];
  readonly serviceEntries: readonly ManifestDocument[];

  constructor(set: ManifestSet) {
    this.documents = set.documents;
    this.services = this.#ofKind("", "Service");
    this.gateways = this.#ofKind("networking.istio.io", "Gateway");
    this.virtualServices = this.#ofKind("networking.istio.io", "VirtualService");
    this.destinationRules = this.#ofKind("networking.istio.io", "DestinationRule");
    this.serviceEntries = this.#ofKind("networking.istio.io", "ServiceEntry");
    this.workloads = this.documents.flatMap((doc) => {
      const workload = toWorkload(doc);
      return workload ? [workload] : [];
    });
  }

  #ofKind(group: string, kind: string): ManifestDocument[] {
    return this.documents.filter(
      (d) =>
        d.kind === kind &&
        (group === "" ? !d.apiVersion.includes("/") : d.apiVersion.startsWith(`${group}/`)),
    );
  }

  /** Records a finding on `doc` at `path`; the rule's reason is appended to `detail`. */
  report(doc: ManifestDocument, path: FieldPath, ruleId: RuleId, detail: string): void {
    if (RULES[ruleId].severity === "error") this.#rejected.add(doc);
    this.reportAt({ file: doc.file, line: doc.lineOf(path), kind: doc.kind, name: doc.name }, ruleId, detail);
  }

  reportAt(
    where: { file: string; line: number; kind: string; name: string },
    ruleId: RuleId,
    detail: string,
  ): void {
    const rule = RULES[ruleId];
    this.findings.push({ ...where, ruleId, severity: rule.severity, message: `${detail} — ${rule.why}` });
  }

  /** Whether an error has been reported on `doc` so far (the rules run in admission order). */
  hasError(doc: ManifestDocument): boolean {
    return this.#rejected.has(doc);
  }

  /** Workloads whose pods a Service's selector picks. */
  workloadsBehind(service: ManifestDocument): Workload[] {
    const selector = stringMap(get(service.object, "spec", "selector"));
    if (Object.keys(selector).length === 0) return [];
    return this.workloads.filter(
      (w) => sameNamespace(w.doc.namespace, service.namespace) && labelsMatch(selector, w.podLabels),
    );
  }

  /**
   * Resolves an Istio host the way Istio does for Kubernetes services: a short name in the
   * referring object's namespace, `name.namespace`, or `name.namespace.svc[.cluster.local]`.
   * Hosts of ServiceEntries and other domains are external.
   */
  resolveHost(host: string, fromNamespace: string | undefined): HostResolution {
    if (
      host.startsWith("*") ||
      this.serviceEntries.some((se) => asArray(get(se.object, "spec", "hosts")).includes(host))
    ) {
      return { status: "external" };
    }
    const labels = host.split(".");
    let name: string;
    let namespace: string | undefined;
    if (labels.length === 1) {
      name = host;
      namespace = fromNamespace;
    } else if (/^[^.]+\.[^.]+\.svc(\.cluster\.local)?$/.test(host) || labels.length === 2) {
      name = labels[0] as string;
      namespace = labels[1];
    } else {
      return { status: "external" };
    }
    const service = this.services.find((s) => s.name === name && sameNamespace(s.namespace, namespace));
    if (service) return { status: "service", service };
    // A two-label host is as likely a domain (example.com) as name.namespace.
    if (labels.length === 2) return { status: "external" };
    return { status: "missing", name, elsewhere: this.services.find((s) => s.name === name) };
  }

  /** The Service a DestinationRule applies to, if it resolves to one. */
  serviceOf(rule: ManifestDocument): ManifestDocument | undefined {
    const host = get(rule.object, "spec", "host");
    if (typeof host !== "string") return undefined;
    const resolved = this.resolveHost(host, rule.namespace);
    return resolved.status === "service" ? resolved.service : undefined;
  }

  /** Every consistentHash of a DestinationRule: top level, per subset and per port. */
  hashPolicies(rule: ManifestDocument): HashPolicy[] {
    const policies: HashPolicy[] = [];
    const collect = (policy: unknown, path: FieldPath, scope: HashPolicy["scope"]) => {
      if (!isPlainObject(policy)) return;
      const hash = get(policy, "loadBalancer", "consistentHash");
      if (isPlainObject(hash)) {
        policies.push({
          rule,
          path: [...path, "loadBalancer", "consistentHash"],
          hash,
          scope,
          trafficPolicy: policy,
          trafficPolicyPath: path,
        });
      }
      for (const [i, port] of asArray(policy.portLevelSettings).entries()) {
        if (!isPlainObject(port)) continue;
        const portHash = get(port, "loadBalancer", "consistentHash");
        if (isPlainObject(portHash)) {
          policies.push({
            rule,
            path: [...path, "portLevelSettings", i, "loadBalancer", "consistentHash"],
            hash: portHash,
            scope: "port",
            trafficPolicy: port,
            trafficPolicyPath: [...path, "portLevelSettings", i],
          });
        }
      }
    };
    collect(get(rule.object, "spec", "trafficPolicy"), ["spec", "trafficPolicy"], "top");
    for (const [i, subset] of asArray(get(rule.object, "spec", "subsets")).entries()) {
      collect(get(subset, "trafficPolicy"), ["spec", "subsets", i, "trafficPolicy"], "subset");
    }
    return policies;
  }

  /** Consistent-hash policies that apply to a Service, across all DestinationRules. */
  hashPoliciesFor(service: ManifestDocument): HashPolicy[] {
    return this.destinationRules
      .filter((dr) => this.serviceOf(dr) === service)
      .flatMap((dr) => this.hashPolicies(dr));
  }
}

export function describeRef(doc: ManifestDocument): string {
  return objectRef(doc);
}

function toWorkload(doc: ManifestDocument): Workload | undefined {
  if (doc.kind === "Pod" && doc.apiVersion === "v1") {
    return {
      doc,
      podLabels: stringMap(get(doc.object, "metadata", "labels")),
      containers: asArray(get(doc.object, "spec", "containers")).filter(isPlainObject),
      podSpecPath: ["spec"],
      replicas: 1,
    };
  }
  if (!WORKLOAD_KINDS.has(doc.kind) || !doc.apiVersion.startsWith("apps/")) return undefined;
  const replicas = get(doc.object, "spec", "replicas");
  return {
    doc,
    podLabels: stringMap(get(doc.object, "spec", "template", "metadata", "labels")),
    containers: asArray(get(doc.object, "spec", "template", "spec", "containers")).filter(isPlainObject),
    podSpecPath: ["spec", "template", "spec"],
    replicas: doc.kind === "DaemonSet" ? undefined : typeof replicas === "number" ? replicas : undefined,
  };
}

/** A value inside nested plain objects, or undefined as soon as a step is missing. */
export function stringMap(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}

export function labelsMatch(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** An unset namespace is whatever `kubectl apply` targets, so it may equal any other. */
export function sameNamespace(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

/** Hash keys that need HTTP data; useSourceIp works on any protocol. */
export function hashesHttpData(hash: Json): boolean {
  return (
    hash.httpCookie !== undefined ||
    hash.httpHeaderName !== undefined ||
    hash.httpQueryParameterName !== undefined
  );
}
