import { apiGroup, type FieldPath, formatPath } from "./types.js";

/**
 * Schema validation with the @kubernetes-models packages, plus the unknown-field check they lack.
 *
 * Both packages accept any extra property, while the API server (kubectl's strict field validation)
 * and Istio reject them, so `consistantHash` would pass silently. kubernetes-models 4 ships only
 * precompiled validators (no JSON schema to walk), so the walk is done through the validator itself:
 * the object is wrapped in a proxy that records which property names the validator reads at each
 * level. A validator reads every property its schema declares, so an own key it never read is one
 * the schema does not know. A mapping the validator enumerates (labels, annotations) is a free-form
 * map; one it reads nothing from is free-form too (`type: object` without properties).
 */

export type SchemaIssueCode = "invalid" | "unknown-field";

export interface SchemaIssue {
  readonly code: SchemaIssueCode;
  /** Where the problem is; for an unknown field, the field itself. */
  readonly path: FieldPath;
  readonly message: string;
}

export type SchemaResult =
  | { readonly status: "validated"; readonly schema: string; readonly issues: readonly SchemaIssue[] }
  | { readonly status: "no-schema" };

interface ModelClass {
  readonly prototype: { validate(): void };
}

const KUBERNETES_GROUPS = new Set([
  "",
  "apps",
  "autoscaling",
  "batch",
  "policy",
  "networking.k8s.io",
  "rbac.authorization.k8s.io",
  "discovery.k8s.io",
]);

/**
 * The Istio release whose CRD schemas @kubernetes-models/istio was generated from (its package.json
 * names crd-all.gen.yaml of this tag). For DestinationRule, VirtualService and Gateway they equal
 * those of the emulated Istio (../validation/index.ts): the schemas did not change between the two.
 */
export const ISTIO_SCHEMA_RELEASE = "1.29.2";

/**
 * Fields of networking.istio.io newer than the emulated Istio 1.30 (istio/api after 1.30: on master
 * since 2026-08), by "<parent key>.<field>": still unknown here, but said to be newer.
 */
const NEWER_ISTIO_FIELDS: ReadonlyMap<string, string> = new Map([
  ["http.http2KeepAlive", "1.31"],
  ["loadBalancer.backendUtilization", "1.31"],
  ["loadBalancer.zoneAwareLbSetting", "1.31"],
  ["outlierDetection.outlierDetectionHttpErrorCodes", "1.31"],
  ["tls.insecureSkipVerify", "1.31"],
]);

const modules = new Map<string, Promise<Record<string, unknown> | undefined>>();

function moduleFor(apiVersion: string): { specifier: string; schemaVersion: string } | undefined {
  const group = apiGroup(apiVersion);
  const version = apiVersion.slice(apiVersion.indexOf("/") + 1);
  if (KUBERNETES_GROUPS.has(group)) {
    return {
      specifier: group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`,
      schemaVersion: apiVersion,
    };
  }
  if (group === "networking.istio.io") {
    return { specifier: `@kubernetes-models/istio/${group}/${version}`, schemaVersion: apiVersion };
  }
  return undefined;
}

async function modelFor(
  apiVersion: string,
  kind: string,
): Promise<{ model: ModelClass; schemaVersion: string } | undefined> {
  const target = moduleFor(apiVersion);
  // The kind's own module, not its group's index: the core group's index alone loads hundreds of
  // models (400 ms) where a Service needs one (80 ms). A kind that is not a plain name has no module.
  if (!target || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  const specifier = `${target.specifier}/${kind}`;
  let loading = modules.get(specifier);
  if (!loading) {
    loading = import(specifier).then(
      (m: Record<string, unknown>) => m,
      () => undefined,
    );
    modules.set(specifier, loading);
  }
  const mod = await loading;
  const model = mod?.[kind];
  if (typeof model !== "function" || typeof (model as ModelClass).prototype?.validate !== "function")
    return undefined;
  return { model: model as ModelClass, schemaVersion: target.schemaVersion };
}

/** Validates one object against its schema; `no-schema` for kinds neither package describes. */
export async function validateSchema(object: Readonly<Record<string, unknown>>): Promise<SchemaResult> {
  const apiVersion = String(object.apiVersion);
  const kind = String(object.kind);
  const found = await modelFor(apiVersion, kind);
  if (!found) return { status: "no-schema" };

  const recorder = new ReadRecorder();
  // The model's own validate() runs on `this`; handing it a proxy keeps the package's validator and
  // error reporting while letting us see its reads. The root must carry the model's prototype because
  // the older model base looks its schema id up there.
  const root = Object.assign(Object.create(found.model.prototype as object) as object, object, {
    apiVersion: found.schemaVersion,
  });
  const issues: SchemaIssue[] = [];
  try {
    found.model.prototype.validate.call(recorder.wrap(root));
  } catch (err) {
    const errors = (err as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) throw err;
    issues.push(...toIssues(errors as AjvError[], object));
  }
  issues.push(...recorder.unknownFields(root));
  return { status: "validated", schema: `${found.schemaVersion} ${kind}`, issues };
}

interface Reads {
  readonly keys: Set<string>;
  enumerated: boolean;
}

class ReadRecorder {
  readonly #reads = new WeakMap<object, Reads>();
  readonly #proxies = new WeakMap<object, object>();

  wrap<T>(value: T): T {
    if (typeof value !== "object" || value === null) return value;
    const cached = this.#proxies.get(value);
    if (cached) return cached as T;
    const reads: Reads = { keys: new Set(), enumerated: false };
    this.#reads.set(value, reads);
    const proxy = new Proxy(value, {
      get: (target, key, receiver) => {
        const result = Reflect.get(target, key, receiver);
        if (typeof key !== "string") return result;
        reads.keys.add(key);
        return Object.hasOwn(target, key) ? this.wrap(result) : result;
      },
      has: (target, key) => {
        if (typeof key === "string") reads.keys.add(key);
        return Reflect.has(target, key);
      },
      ownKeys: (target) => {
        reads.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    this.#proxies.set(value, proxy);
    return proxy as T;
  }

  unknownFields(root: object): SchemaIssue[] {
    const issues: SchemaIssue[] = [];
    const visit = (value: unknown, path: (string | number)[], depth: number) => {
      if (typeof value !== "object" || value === null || depth > 64) return;
      const reads = this.#reads.get(value);
      if (!reads) return;
      if (Array.isArray(value)) {
        for (const [i, item] of value.entries()) visit(item, [...path, i], depth + 1);
        return;
      }
      const freeForm = reads.enumerated || reads.keys.size === 0;
      for (const [key, child] of Object.entries(value)) {
        if (!freeForm && !reads.keys.has(key)) {
          const fieldPath = [...path, key];
          const parent = path.findLast((p) => typeof p === "string");
          const newer = NEWER_ISTIO_FIELDS.get(`${parent}.${key}`);
          issues.push({
            code: "unknown-field",
            path: fieldPath,
            message: newer
              ? `unknown field "${formatPath(fieldPath)}": it came with Istio ${newer}, after the Istio 1.30 emulated here`
              : `unknown field "${formatPath(fieldPath)}"`,
          });
          continue;
        }
        visit(child, [...path, key], depth + 1);
      }
    };
    visit(root, [], 0);
    return issues;
  }
}

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const BRANCH = /\/(oneOf|anyOf|allOf|not)\//;

/**
 * Turns validator errors into one issue per real problem. Errors raised inside oneOf/anyOf branches
 * only say which alternative did not fit; they are dropped when a plainer error explains the same
 * spot, and the oneOf error stands for them otherwise.
 */
function toIssues(errors: readonly AjvError[], object: Readonly<Record<string, unknown>>): SchemaIssue[] {
  // Istio's "at most one of" fields are oneOf [not anyOf(required each), required a, required b, …];
  // validators compiled per definition report the failed branches at the oneOf's own spot.
  const alternativesAt = new Set(
    errors.filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf").map((e) => e.instancePath),
  );
  const plain = errors.filter(
    (e) =>
      !BRANCH.test(e.schemaPath) &&
      e.keyword !== "oneOf" &&
      e.keyword !== "anyOf" &&
      !((e.keyword === "not" || e.keyword === "required") && alternativesAt.has(e.instancePath)),
  );
  // An at-most-one violation (its `not` branch failed) stands on its own; other alternatives are
  // explained by a plainer error at or below their spot when there is one.
  const atMostOne = new Set(errors.filter((e) => e.keyword === "not").map((e) => e.instancePath));
  const alternatives = errors.filter(
    (e) =>
      (e.keyword === "oneOf" || e.keyword === "anyOf") &&
      (atMostOne.has(e.instancePath) ||
        !plain.some(
          (p) => p.instancePath === e.instancePath || p.instancePath.startsWith(`${e.instancePath}/`),
        )),
  );
  // Several errors on one spot come from alternatives (int-or-string, quantity): merge them.
  const byPath = new Map<string, AjvError[]>();
  for (const error of [...plain, ...alternatives]) {
    const group = byPath.get(error.instancePath) ?? [];
    group.push(error);
    byPath.set(error.instancePath, group);
  }
  const issues: SchemaIssue[] = [];
  for (const [pointer, group] of byPath) {
    const path = pointerToPath(pointer, object);
    const value = valueAt(object, path);
    const format = group.find((e) => e.keyword === "format");
    const types = group.filter((e) => e.keyword === "type");
    const rest = group.filter((e) => e.keyword !== "type" && e.keyword !== "format");
    const chosen: AjvError[] = format
      ? [format, ...rest]
      : types.length > 0
        ? [mergeTypes(types), ...rest]
        : rest;
    const seen = new Set<string>();
    for (const error of chosen) {
      const { fieldPath, message } = describe(error, path, value);
      if (seen.has(message)) continue;
      seen.add(message);
      issues.push({ code: "invalid", path: fieldPath, message });
    }
  }
  return issues;
}

function mergeTypes(errors: readonly AjvError[]): AjvError {
  const first = errors[0] as AjvError;
  const names = [...new Set(errors.map((e) => String(e.params.type)))];
  return { ...first, params: { type: names.join(" or ") } };
}

function describe(
  error: AjvError,
  path: FieldPath,
  value: unknown,
): { fieldPath: FieldPath; message: string } {
  const where = formatPath(path) || "(object)";
  switch (error.keyword) {
    case "required": {
      const missing = String(error.params.missingProperty);
      const fieldPath = [...path, missing];
      return { fieldPath: path, message: `${formatPath(fieldPath)} is required` };
    }
    case "type":
      return {
        fieldPath: path,
        message: `${where} must be ${String(error.params.type)}, got ${show(value)}`,
      };
    case "enum": {
      const allowed = (error.params.allowedValues as unknown[] | undefined)?.map(String).join(", ");
      return { fieldPath: path, message: `${where} must be one of ${allowed}, got ${show(value)}` };
    }
    case "oneOf":
    case "anyOf":
      if (error.params.passingSchemas) {
        return {
          fieldPath: path,
          message: `${where} sets more than one of fields that exclude each other (${setKeys(value)})`,
        };
      }
      return {
        fieldPath: path,
        message: `${where} must match exactly one of its allowed forms (set only one of the alternative fields)`,
      };
    case "format":
      return {
        fieldPath: path,
        message: `${where} must be a valid ${String(error.params.format)}, got ${show(value)}`,
      };
    default:
      return { fieldPath: path, message: `${where} ${error.message ?? error.keyword}, got ${show(value)}` };
  }
}

function setKeys(value: unknown): string {
  return value !== null && typeof value === "object" ? Object.keys(value).join(", ") : "";
}

function show(value: unknown): string {
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${String(value)}`;
}

function pointerToPath(pointer: string, object: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let node: unknown = object;
  for (const raw of pointer.split("/").slice(1)) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    const index = Array.isArray(node) && /^\d+$/.test(segment) ? Number(segment) : segment;
    path.push(index);
    node =
      node !== null && typeof node === "object"
        ? (node as Record<string | number, unknown>)[index]
        : undefined;
  }
  return path;
}

function valueAt(object: unknown, path: FieldPath): unknown {
  let node: unknown = object;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}
