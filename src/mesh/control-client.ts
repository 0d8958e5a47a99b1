/**
 * The client side of the control API, for the CLI verbs and for tests, checkers and dashboards:
 * typed calls over HTTP, and the mesh's errors turned back into SessionAffinityErrors (a rejected
 * file keeps its lint findings).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type ErrorCode, SessionAffinityError } from "../errors.js";
import type { Finding } from "../lint/index.js";
import { readAdminToken } from "./admin-token.js";
import { type ApplyResult, type ObjectOutcome, RejectedManifestError } from "./control-plane.js";
import type { StoreName, StoreSwitch } from "./mesh.js";
import type { ResourceName, ResourceViews } from "./views.js";

export const DEFAULT_ADMIN_URL = "http://127.0.0.1:15000";

export interface MeshInfo {
  readonly gateway: string;
  readonly admin: string;
  readonly store: string;
  readonly pushes: number;
  readonly revision: number;
  readonly settled: boolean;
}

export class ControlClient {
  readonly baseUrl: string;
  /** Given, or read once from the file `up` wrote for this admin port. */
  #token: Promise<string | undefined>;

  constructor(baseUrl = DEFAULT_ADMIN_URL, token?: string) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new SessionAffinityError("ERR_USAGE", `--admin ${baseUrl} is not a URL`);
    }
    if (url.protocol !== "http:")
      throw new SessionAffinityError("ERR_USAGE", `--admin ${baseUrl} must be an http:// URL`);
    this.baseUrl = url.origin;
    const port = Number(url.port || 80);
    this.#token = token === undefined ? readAdminToken(port) : Promise.resolve(token);
  }

  async #call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    let response: Response;
    const token = await this.#token;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new SessionAffinityError(
        "ERR_RUNTIME",
        `no local mesh answers at ${this.baseUrl} (start one with \`session-affinity up\`, or pass --admin URL)`,
        { cause: err },
      );
    }
    const text = await response.text();
    if (response.ok) return (path.endsWith("/logs") ? text : JSON.parse(text)) as T;
    let parsed: { error?: { code?: string; message?: string }; findings?: Finding[] } = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // A non-JSON error body: report the status line below.
    }
    const message = parsed.error?.message ?? `${method} ${path}: HTTP ${response.status}`;
    if (parsed.findings) throw new RejectedManifestError(message, parsed.findings);
    throw new SessionAffinityError((parsed.error?.code as ErrorCode | undefined) ?? "ERR_RUNTIME", message);
  }

  info(): Promise<MeshInfo> {
    return this.#call("GET", "/api/v1");
  }

  state(): Promise<ResourceViews & { now: number }> {
    return this.#call("GET", "/api/v1/state");
  }

  resource<R extends ResourceName>(name: R): Promise<{ now: number; items: ResourceViews[R] }> {
    return this.#call("GET", `/api/v1/${name}`);
  }

  apply(file: string, text: string): Promise<ApplyResult> {
    return this.#call("POST", "/api/v1/apply", { file, text });
  }

  delete(file: string, text: string): Promise<{ objects: ObjectOutcome[] }> {
    return this.#call("POST", "/api/v1/delete", { file, text });
  }

  scale(name: string, replicas: number, namespace?: string): Promise<ObjectOutcome> {
    return this.#call("POST", "/api/v1/scale", { name, replicas, ...(namespace ? { namespace } : {}) });
  }

  rolloutRestart(name: string, namespace?: string): Promise<ObjectOutcome> {
    return this.#call("POST", "/api/v1/rollout-restart", { name, ...(namespace ? { namespace } : {}) });
  }

  deletePod(name: string, options: { namespace?: string; wait?: boolean } = {}): Promise<{ name: string }> {
    return this.#call("POST", "/api/v1/delete-pod", { name, ...options });
  }

  /** SIGKILLs a pod's container, as a node-level crash would. */
  killPod(name: string, namespace?: string): Promise<{ name: string }> {
    return this.#call("POST", "/api/v1/kill-pod", { name, ...(namespace ? { namespace } : {}) });
  }

  /** Switches every replica to the memory or Redis session store (a rolling restart). */
  setStore(store: StoreName): Promise<StoreSwitch> {
    return this.#call("POST", "/api/v1/store", { store });
  }

  podLogs(name: string): Promise<string> {
    return this.#call("GET", `/api/v1/pods/${encodeURIComponent(name)}/logs`);
  }
}

/** The manifest files behind `-f` arguments: files as given, folders' *.yaml/*.yml/*.json sorted. */
export async function manifestFiles(
  paths: readonly string[],
  flag = "-f",
): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const path of paths) {
    if (path === "-") {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      out.push({ file: "<stdin>", text: Buffer.concat(chunks).toString("utf8") });
      continue;
    }
    const info = await stat(path).catch(() => {
      throw new SessionAffinityError("ERR_USAGE", `${flag} ${path}: no such file or folder`);
    });
    const files = info.isDirectory()
      ? (await readdir(path))
          .filter((n) => /\.(ya?ml|json)$/i.test(n) && !/^kustomization\.ya?ml$/i.test(n))
          .sort()
          .map((n) => join(path, n))
      : [path];
    if (files.length === 0)
      throw new SessionAffinityError("ERR_USAGE", `${flag} ${path}: no manifest files in this folder`);
    for (const file of files) {
      const text = await readFile(file, "utf8").catch((err: Error) => {
        throw new SessionAffinityError("ERR_USAGE", `${flag} ${file}: ${err.message}`);
      });
      out.push({ file, text });
    }
  }
  return out;
}

/** `deployment/NAME`, `deployment.v1.apps/NAME`, `deploy/NAME`, or the kind and name as two words. */
export function deploymentRef(args: readonly string[], verb: string): string {
  const [first, second] = args;
  if (first === undefined)
    throw new SessionAffinityError(
      "ERR_USAGE",
      `${verb}: name a deployment, e.g. deployment/session-deployment`,
    );
  const [kind, name] = first.includes("/")
    ? (first.split("/", 2) as [string, string])
    : [first, second ?? ""];
  const kinds = [
    "deployment",
    "deployments",
    "deploy",
    "deployment.apps",
    "deployments.apps",
    "deployment.v1.apps",
  ];
  if (!kinds.includes(kind.toLowerCase())) {
    throw new SessionAffinityError("ERR_USAGE", `${verb}: ${first}: only deployments can be named here`);
  }
  if (name === "")
    throw new SessionAffinityError("ERR_USAGE", `${verb}: ${first}: the deployment name is missing`);
  const extra = first.includes("/") ? args.slice(1) : args.slice(2);
  if (extra.length > 0)
    throw new SessionAffinityError("ERR_USAGE", `${verb}: unexpected argument '${extra[0]}'`);
  return name;
}
