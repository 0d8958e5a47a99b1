/** A path into a manifest object: map keys and sequence indexes, e.g. ["spec", "ports", 0, "name"]. */
export type FieldPath = readonly (string | number)[];

/** One Kubernetes object read from a manifest, with enough position data to point back at its source. */
export interface ManifestDocument {
  /** The file as the caller named it (`<stdin>` for standard input). */
  readonly file: string;
  /** 1-based line of the object's first field. */
  readonly line: number;
  /** 0-based position of the object among the objects of its file. */
  readonly index: number;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** metadata.namespace, or undefined when the manifest leaves it to `kubectl apply`. */
  readonly namespace: string | undefined;
  /** The plain JSON value of the object. */
  readonly object: Readonly<Record<string, unknown>>;
  /** 1-based line of the field at `path`, or of its deepest ancestor present in the source. */
  lineOf(path: FieldPath): number;
}

export type ManifestProblemCode =
  /** The text is not valid YAML. */
  | "yaml-syntax"
  /** A document is not a mapping (a list, a scalar). */
  | "not-an-object"
  /** apiVersion or kind is missing or not a string. */
  | "missing-type"
  /** metadata.name is missing or not a string. */
  | "missing-name";

/** Something that kept a document from becoming a ManifestDocument. */
export interface ManifestProblem {
  readonly file: string;
  readonly line: number;
  readonly code: ManifestProblemCode;
  readonly message: string;
  readonly kind?: string;
}

export interface ManifestSet {
  readonly documents: readonly ManifestDocument[];
  readonly problems: readonly ManifestProblem[];
}

/** apiVersion group, "" for the core group: "networking.istio.io/v1" → "networking.istio.io". */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** "DestinationRule/session" or "DestinationRule/prod/session" when the namespace is set. */
export function objectRef(doc: Pick<ManifestDocument, "kind" | "name" | "namespace">): string {
  return doc.namespace ? `${doc.kind}/${doc.namespace}/${doc.name}` : `${doc.kind}/${doc.name}`;
}

/** spec.ports[0].name */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}
