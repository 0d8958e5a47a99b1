import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { SessionAffinityError } from "../errors.js";
import { parseManifests } from "./parse.js";
import type { ManifestDocument, ManifestProblem, ManifestSet } from "./types.js";

export const STDIN_NAME = "<stdin>";

const MANIFEST_FILE = /\.(ya?ml|json)$/i;
const KUSTOMIZATION_FILE = /^(kustomization\.ya?ml|Kustomization)$/;

export interface LoadOptions {
  /** Where `-` reads from; process.stdin by default. */
  readonly stdin?: NodeJS.ReadableStream;
}

/**
 * Reads manifests from files, folders and `-` (stdin) and parses them in the order given. A folder
 * contributes its *.yaml, *.yml and *.json files, sorted, without descending into subfolders (so
 * `deploy/` is the walkthrough's files, not every component's patches); kustomization files are left
 * out. An unreadable path is an ERR_MANIFEST error naming it; YAML errors become problems in the set.
 */
export async function loadManifests(
  paths: readonly string[],
  options: LoadOptions = {},
): Promise<ManifestSet> {
  const documents: ManifestDocument[] = [];
  const problems: ManifestProblem[] = [];
  for (const source of await expandPaths(paths)) {
    const text =
      source === STDIN_NAME ? await readStream(options.stdin ?? process.stdin) : await readText(source);
    const set = parseManifests(text, source);
    documents.push(...set.documents);
    problems.push(...set.problems);
  }
  return { documents, problems };
}

async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (path === "-") {
      files.push(STDIN_NAME);
      continue;
    }
    const info = await stat(path).catch((err: unknown) => {
      throw unreadable(path, err);
    });
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const entries = await readdir(path, { withFileTypes: true }).catch((err: unknown) => {
      throw unreadable(path, err);
    });
    const inFolder = entries
      .filter((e) => e.isFile() && MANIFEST_FILE.test(e.name) && !KUSTOMIZATION_FILE.test(e.name))
      .map((e) => e.name)
      .sort();
    if (inFolder.length === 0) {
      throw new SessionAffinityError("ERR_MANIFEST", `${path}: no .yaml, .yml or .json files in this folder`);
    }
    files.push(...inFolder.map((name) => join(path, name)));
  }
  return files;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw unreadable(path, err);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function unreadable(path: string, err: unknown): SessionAffinityError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === "ENOENT" ? "no such file or folder" : code === "EACCES" ? "permission denied" : code;
  return new SessionAffinityError("ERR_MANIFEST", `cannot read ${path}: ${reason ?? String(err)}`, {
    cause: err,
  });
}
