/**
 * The affinity rules the dashboard can apply, read from deploy/ every time: the walkthrough's
 * DestinationRule, and that rule with the JSON patch of a kustomize component applied (the header
 * and Maglev variants), the same object `kubectl kustomize deploy/tests/<component>` renders. The
 * patch is applied here rather than by running kubectl, which a machine running the mesh may lack.
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments, stringify } from "yaml";
import { SessionAffinityError } from "../errors.js";
import type { VariantView } from "./protocol.js";

/** deploy/ next to the package: ../../deploy from src/dashboard or dist/dashboard. */
export function deployDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "deploy");
}

const BASE = "session-affinity.yaml";

const VARIANTS: readonly { id: string; label: string; components: readonly string[] }[] = [
  { id: "cookie", label: "Cookie · ring hash", components: [] },
  { id: "header-hash", label: "Header · ring hash", components: ["header-hash"] },
  { id: "maglev", label: "Cookie · Maglev", components: ["maglev"] },
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface PatchOp {
  op: string;
  path: string;
  value?: Json;
}

interface ComponentPatch {
  target?: { kind?: string; name?: string };
  patch?: string;
}

function unescapeToken(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** RFC 6902 add, replace and remove, the operations kustomize components here use. */
export function applyJsonPatch(document: Json, ops: readonly PatchOp[], where: string): Json {
  const root = structuredClone(document);
  for (const op of ops) {
    const tokens = op.path.split("/").slice(1).map(unescapeToken);
    const last = tokens.pop();
    if (last === undefined) throw new SessionAffinityError("ERR_MANIFEST", `${where}: empty patch path`);
    let parent: Json = root;
    for (const token of tokens) {
      const next: Json | undefined = Array.isArray(parent)
        ? parent[Number(token)]
        : parent && typeof parent === "object"
          ? parent[token]
          : undefined;
      if (next === undefined || next === null || typeof next !== "object") {
        throw new SessionAffinityError("ERR_MANIFEST", `${where}: ${op.path}: no such path`);
      }
      parent = next;
    }
    if (parent === null || typeof parent !== "object" || Array.isArray(parent)) {
      throw new SessionAffinityError("ERR_MANIFEST", `${where}: ${op.path}: only object members are patched`);
    }
    if (op.op === "add" || op.op === "replace") {
      if (op.op === "replace" && !(last in parent)) {
        throw new SessionAffinityError("ERR_MANIFEST", `${where}: replace ${op.path}: no such member`);
      }
      parent[last] = structuredClone(op.value ?? null);
    } else if (op.op === "remove") {
      delete parent[last];
    } else {
      throw new SessionAffinityError("ERR_MANIFEST", `${where}: unsupported patch op ${op.op}`);
    }
  }
  return root;
}

async function componentPatches(dir: string, component: string): Promise<PatchOp[]> {
  const file = join(dir, "components", component, "kustomization.yaml");
  const kustomization = parse(await readFile(file, "utf8")) as { patches?: ComponentPatch[] };
  const ops: PatchOp[] = [];
  for (const p of kustomization.patches ?? []) {
    if (p.target?.kind !== "DestinationRule") continue;
    if (typeof p.patch !== "string") {
      throw new SessionAffinityError("ERR_MANIFEST", `${file}: only inline JSON patches are understood`);
    }
    ops.push(...(parse(p.patch) as PatchOp[]));
  }
  return ops;
}

export async function loadVariants(dir = deployDir()): Promise<VariantView[]> {
  const baseText = await readFile(join(dir, BASE), "utf8");
  const docs = parseAllDocuments(baseText).map((d) => d.toJS() as Json);
  if (docs.length !== 1) throw new SessionAffinityError("ERR_MANIFEST", `${BASE}: expected one object`);
  const base = docs[0] as Json;
  const out: VariantView[] = [];
  for (const v of VARIANTS) {
    if (v.components.length === 0) {
      out.push({ id: v.id, label: v.label, file: `deploy/${BASE}`, text: baseText });
      continue;
    }
    let object = base;
    for (const c of v.components) {
      object = applyJsonPatch(object, await componentPatches(dir, c), `deploy/components/${c}`);
    }
    out.push({
      id: v.id,
      label: v.label,
      file: `deploy/${BASE} + ${v.components.map((c) => `components/${c}`).join(" + ")}`,
      text: stringify(object),
    });
  }
  return out;
}
