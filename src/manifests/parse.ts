import { isMap, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import type { FieldPath, ManifestDocument, ManifestProblem, ManifestSet } from "./types.js";

/** Build-tool files that may sit next to manifests but are not cluster objects. */
const NOT_CLUSTER_OBJECTS = new Set(["kustomize.config.k8s.io", "config.kubernetes.io"]);

/**
 * Parses multi-document YAML (or JSON) text into manifest documents. Pure: no file access, so the same
 * function serves files, stdin and rendered `kubectl kustomize` output. A `kind: List` is expanded into
 * its items. Kustomize's own files are skipped.
 */
export function parseManifests(text: string, file: string): ManifestSet {
  const lineCounter = new LineCounter();
  const documents: ManifestDocument[] = [];
  const problems: ManifestProblem[] = [];
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;

  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const line = error.linePos?.[0].line ?? lineAt(error.pos[0]);
        const message = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
        problems.push({ file, line, code: "yaml-syntax", message });
      }
      continue;
    }
    const root = doc.contents;
    if (root === null) continue;
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    // `---` followed by nothing (or only comments) is an empty document, not an object.
    if (value === null || value === undefined) continue;
    const candidates: { value: unknown; node: Node; prefix: FieldPath }[] = [];
    if (isPlainObject(value) && value.kind === "List" && Array.isArray(value.items) && isMap(root)) {
      const itemsNode = root.get("items", true);
      value.items.forEach((item, i) => {
        const node = isSeq(itemsNode) ? itemsNode.items[i] : undefined;
        candidates.push({ value: item, node: isNodeLike(node) ? node : root, prefix: ["items", i] });
      });
    } else {
      candidates.push({ value, node: root, prefix: [] });
    }
    for (const { value: item, node } of candidates) {
      const line = lineAt(node.range?.[0] ?? 0);
      const shaped = checkShape(item, file, line);
      if ("problem" in shaped) {
        if (shaped.problem) problems.push(shaped.problem);
        continue;
      }
      const { object, apiVersion, kind, name, namespace } = shaped;
      documents.push({
        file,
        line,
        index: documents.filter((d) => d.file === file).length,
        apiVersion,
        kind,
        name,
        namespace,
        object,
        lineOf: (path) => lineAt(offsetOf(node, path)),
      });
    }
  }
  return { documents, problems };
}

type Shaped =
  | { problem: ManifestProblem | undefined }
  | {
      object: Record<string, unknown>;
      apiVersion: string;
      kind: string;
      name: string;
      namespace: string | undefined;
    };

function checkShape(value: unknown, file: string, line: number): Shaped {
  if (!isPlainObject(value)) {
    return {
      problem: { file, line, code: "not-an-object", message: "document is not a mapping of fields" },
    };
  }
  const { apiVersion, kind } = value;
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !apiVersion || !kind) {
    return {
      problem: {
        file,
        line,
        code: "missing-type",
        message: "apiVersion and kind must both be non-empty strings",
      },
    };
  }
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  if (NOT_CLUSTER_OBJECTS.has(group)) return { problem: undefined };
  const metadata = isPlainObject(value.metadata) ? value.metadata : {};
  const { name, namespace } = metadata;
  if (typeof name !== "string" || name === "") {
    return {
      problem: {
        file,
        line,
        code: "missing-name",
        kind,
        message: "metadata.name must be a non-empty string",
      },
    };
  }
  return {
    object: value,
    apiVersion,
    kind,
    name,
    namespace: typeof namespace === "string" && namespace !== "" ? namespace : undefined,
  };
}

/** Offset of the deepest node on `path`; a map entry points at its key so the line names the field. */
function offsetOf(root: Node, path: FieldPath): number {
  let node: unknown = root;
  let offset = root.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) break;
      const keyNode = pair.key;
      if (isNodeLike(keyNode) && keyNode.range) offset = keyNode.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (!isNodeLike(item)) break;
      if (item.range) offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function keyText(key: unknown): string | undefined {
  if (isNodeLike(key) && "value" in key) return String((key as { value: unknown }).value);
  return key === null || key === undefined ? undefined : String(key);
}

function isNodeLike(value: unknown): value is Node {
  return typeof value === "object" && value !== null && "range" in value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
