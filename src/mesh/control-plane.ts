/**
 * The API server of the local mesh: the applied objects, all-or-nothing apply and delete per file,
 * the live changes `scale` and `rollout restart` make, and change events for the controllers and the
 * gateway (the mesh's xDS push). A file is linted together with what is already applied, so a
 * VirtualService applied after its Service is judged against it, as a cluster would; any
 * error-severity finding of the file rejects the whole file.
 */
import { SessionAffinityError } from "../errors.js";
import { type Finding, lintManifests } from "../lint/index.js";
import { canonicalJson } from "../manifests/canonical-json.js";
import type { ManifestDocument, ManifestSet } from "../manifests/index.js";
import {
  type DeploymentModel,
  isMeshKind,
  type MeshKind,
  type MeshObject,
  objectKey,
  toMeshObject,
} from "./model.js";

export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";

export interface AppliedObject {
  readonly doc: ManifestDocument;
  readonly object: MeshObject;
  readonly createdAt: number;
}

export type ApplyAction = "created" | "configured" | "unchanged";

export interface ObjectOutcome {
  readonly kind: MeshKind;
  readonly namespace: string;
  readonly name: string;
  /** kubectl's resource name, e.g. deployment.apps/session-deployment */
  readonly resource: string;
  readonly action: ApplyAction | "deleted";
}

export interface ApplyResult {
  readonly objects: readonly ObjectOutcome[];
  /** Warnings of the applied file (errors reject it). */
  readonly findings: readonly Finding[];
}

/** A file rejected by the linter: nothing of it was applied. */
export class RejectedManifestError extends SessionAffinityError {
  readonly findings: readonly Finding[];

  constructor(message: string, findings: readonly Finding[]) {
    super("ERR_MANIFEST", message);
    this.findings = findings;
  }
}

const RESOURCE_GROUP: Record<MeshKind, string> = {
  Deployment: "deployment.apps",
  Service: "service",
  Secret: "secret",
  Gateway: "gateway.networking.istio.io",
  VirtualService: "virtualservice.networking.istio.io",
  DestinationRule: "destinationrule.networking.istio.io",
};

export function resourceName(kind: MeshKind, name: string): string {
  return `${RESOURCE_GROUP[kind]}/${name}`;
}

export type ChangeListener = (kinds: ReadonlySet<MeshKind>) => void;

export class ControlPlane {
  readonly #objects = new Map<string, AppliedObject>();
  readonly #listeners = new Set<ChangeListener>();
  readonly #now: () => number;
  #revision = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Bumped on every change; config_dump reports it as the config version. */
  get revision(): number {
    return this.#revision;
  }

  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  list<K extends MeshKind>(kind: K): (AppliedObject & { object: Extract<MeshObject, { kind: K }> })[] {
    const out: (AppliedObject & { object: Extract<MeshObject, { kind: K }> })[] = [];
    for (const applied of this.#objects.values()) {
      if (applied.object.kind === kind)
        out.push(applied as AppliedObject & { object: Extract<MeshObject, { kind: K }> });
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || a.object.name.localeCompare(b.object.name));
  }

  get(kind: MeshKind, namespace: string, name: string): AppliedObject | undefined {
    return this.#objects.get(objectKey({ kind, namespace, name }));
  }

  /** Lints and applies one file's objects, or none of them. */
  async apply(set: ManifestSet): Promise<ApplyResult> {
    const files = new Set([...set.documents.map((d) => d.file), ...set.problems.map((p) => p.file)]);
    const label = [...files].join(", ") || "input";
    if (set.documents.length === 0 && set.problems.length === 0) {
      throw new SessionAffinityError("ERR_MANIFEST", `${label}: no objects to apply`);
    }
    const incoming = new Set(set.documents.map((d) => `${d.kind}/${d.namespace ?? "default"}/${d.name}`));
    const kept = [...this.#objects.values()]
      .map((a) => a.doc)
      .filter((d) => !incoming.has(`${d.kind}/${d.namespace ?? "default"}/${d.name}`));
    const ownNames = new Set(set.documents.map((d) => `${d.kind}/${d.name}`));
    const findings = (
      await lintManifests({ documents: [...kept, ...set.documents], problems: set.problems })
    ).filter(
      (f) => files.has(f.file) && (f.ruleId.startsWith("manifest/") || ownNames.has(`${f.kind}/${f.name}`)),
    );
    const errors = findings.filter((f) => f.severity === "error");
    if (errors.length > 0) {
      throw new RejectedManifestError(
        `${label}: rejected with ${errors.length} error${errors.length === 1 ? "" : "s"}; nothing applied`,
        findings,
      );
    }
    const converted = set.documents.map((doc) => ({ doc, object: toMeshObject(doc) }));
    const outcomes: ObjectOutcome[] = [];
    const changed = new Set<MeshKind>();
    const now = this.#now();
    for (const { doc, object } of converted) {
      const key = objectKey(object);
      const previous = this.#objects.get(key);
      let action: ApplyAction = "created";
      let live = object;
      if (previous) {
        action =
          canonicalJson(previous.doc.object) === canonicalJson(doc.object) ? "unchanged" : "configured";
        if (object.kind === "Deployment" && previous.object.kind === "Deployment") {
          live = mergeLiveDeployment(previous, object);
        }
      }
      if (action !== "unchanged") {
        this.#objects.set(key, { doc, object: live, createdAt: previous?.createdAt ?? now });
        changed.add(object.kind);
      } else if (previous) {
        this.#objects.set(key, { ...previous, doc });
      }
      outcomes.push(outcome(object, action));
    }
    this.#emit(changed);
    return { objects: outcomes, findings };
  }

  /** Deletes every object of a file, or none when one of them is not applied. */
  delete(set: ManifestSet): ObjectOutcome[] {
    const label = [...new Set(set.documents.map((d) => d.file))].join(", ") || "input";
    if (set.problems.length > 0) {
      const first = set.problems[0];
      throw new SessionAffinityError("ERR_MANIFEST", `${first?.file}:${first?.line} ${first?.message}`);
    }
    if (set.documents.length === 0)
      throw new SessionAffinityError("ERR_MANIFEST", `${label}: no objects to delete`);
    const keys = set.documents.map((d) => {
      if (!isMeshKind(d)) {
        throw new SessionAffinityError(
          "ERR_MANIFEST",
          `${d.file}:${d.line} ${d.kind}/${d.name}: not a kind the local mesh runs`,
        );
      }
      return { doc: d, key: `${d.kind}/${d.namespace ?? "default"}/${d.name}` };
    });
    const missing = keys.filter(({ key }) => !this.#objects.has(key));
    if (missing.length > 0) {
      throw new SessionAffinityError(
        "ERR_MANIFEST",
        `${label}: nothing deleted; not found: ${missing.map(({ doc }) => resourceName(doc.kind as MeshKind, doc.name)).join(", ")}`,
      );
    }
    const outcomes: ObjectOutcome[] = [];
    const changed = new Set<MeshKind>();
    for (const { key } of keys) {
      const applied = this.#objects.get(key) as AppliedObject;
      this.#objects.delete(key);
      changed.add(applied.object.kind);
      outcomes.push(outcome(applied.object, "deleted"));
    }
    this.#emit(changed);
    return outcomes;
  }

  scale(namespace: string, name: string, replicas: number): ObjectOutcome {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new SessionAffinityError(
        "ERR_USAGE",
        `scale: --replicas=${replicas} must be a non-negative integer`,
      );
    }
    return this.#updateDeployment(namespace, name, (d) => ({ ...d, replicas }));
  }

  /** `kubectl rollout restart`: a new template annotation, hence a new template hash and new pods. */
  restart(namespace: string, name: string): ObjectOutcome {
    const at = new Date(this.#now()).toISOString().replace(/\.\d+Z$/, "Z");
    return this.#updateDeployment(namespace, name, (d) => withRestartedAt(d, at));
  }

  #updateDeployment(
    namespace: string,
    name: string,
    update: (d: DeploymentModel) => DeploymentModel,
  ): ObjectOutcome {
    const key = objectKey({ kind: "Deployment", namespace, name });
    const applied = this.#objects.get(key);
    if (applied?.object.kind !== "Deployment") {
      throw new SessionAffinityError(
        "ERR_USAGE",
        `deployments.apps "${name}" not found in namespace ${namespace}`,
      );
    }
    const object = update(applied.object);
    this.#objects.set(key, { ...applied, object });
    this.#emit(new Set(["Deployment"]));
    return outcome(object, "configured");
  }

  #emit(kinds: ReadonlySet<MeshKind>): void {
    if (kinds.size === 0) return;
    this.#revision++;
    for (const listener of this.#listeners) listener(kinds);
  }
}

function outcome(object: MeshObject, action: ObjectOutcome["action"]): ObjectOutcome {
  return {
    kind: object.kind,
    namespace: object.namespace,
    name: object.name,
    resource: resourceName(object.kind, object.name),
    action,
  };
}

function withRestartedAt(d: DeploymentModel, at: string): DeploymentModel {
  const metadata = (d.template.metadata ?? {}) as Record<string, unknown>;
  const annotations = {
    ...((metadata.annotations ?? {}) as Record<string, unknown>),
    [RESTARTED_AT_ANNOTATION]: at,
  };
  return { ...d, template: { ...d.template, metadata: { ...metadata, annotations } } };
}

/**
 * kubectl apply's three-way merge for the fields other verbs change live: replicas set by `scale`
 * survive a re-apply whose manifest did not change them, and so does a rollout restart annotation.
 */
function mergeLiveDeployment(previous: AppliedObject, next: DeploymentModel): DeploymentModel {
  const live = previous.object as DeploymentModel;
  const lastApplied = toMeshObject(previous.doc) as DeploymentModel;
  let merged = next.replicas === lastApplied.replicas ? { ...next, replicas: live.replicas } : next;
  const restartedAt = (live.template.metadata as { annotations?: Record<string, string> } | undefined)
    ?.annotations?.[RESTARTED_AT_ANNOTATION];
  if (restartedAt !== undefined) merged = withRestartedAt(merged, restartedAt);
  return merged;
}
