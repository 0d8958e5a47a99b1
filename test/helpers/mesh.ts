/**
 * A local mesh for tests: started on free ports, stopped (every pod process with it) when the test
 * or suite ends, plus an HTTP client with a cookie jar that reads the service's answers, and a
 * runner for the CLI. Reuse it for any test that needs the system running.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ControlClient } from "../../src/mesh/control-client.js";
import { type Mesh, type MeshOptions, startMesh } from "../../src/mesh/mesh.js";

const run = promisify(execFile);

export const ROOT = join(import.meta.dirname, "..", "..");
export const DEPLOY = join(ROOT, "deploy");
export const FIXTURES = join(ROOT, "test", "fixtures", "mesh");

export interface TestMesh {
  readonly mesh: Mesh;
  readonly gatewayUrl: string;
  readonly adminUrl: string;
  /** The control API's Authorization header for this mesh. */
  readonly auth: { readonly authorization: string };
  readonly client: ControlClient;
  /** A GET through the gateway; `jar` sends and stores cookies like a browser or curl -b/-c. */
  get(path: string, options?: RequestOptions): Promise<UserResponse>;
  /** The session-affinity CLI with `--admin` pointing at this mesh. */
  cli(...args: string[]): Promise<CliResult>;
  stop(): Promise<void>;
}

export interface RequestOptions {
  readonly jar?: CookieJar;
  /** Only send the jar's cookies, never store new ones (curl -b without -c). */
  readonly readOnlyJar?: boolean;
  readonly headers?: Record<string, string>;
  readonly method?: string;
  readonly host?: string;
}

export interface UserResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
  /** From "Hostname: <pod><br>" in the service's answer. */
  readonly hostname?: string;
  /** From "<n>th time access." */
  readonly count?: number;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Just enough of a cookie jar: name → value, replaced by Set-Cookie, sent as one Cookie header. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const pair = line.split(";")[0] ?? "";
      const eq = pair.indexOf("=");
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
}

export function parseUserBody(body: string): { hostname?: string; count?: number } {
  const hostname = /Hostname: ([^<\s]+)/.exec(body)?.[1];
  const count = /^(\d+)(?:st|nd|rd|th) time access/m.exec(body)?.[1];
  return {
    ...(hostname === undefined ? {} : { hostname }),
    ...(count === undefined ? {} : { count: Number(count) }),
  };
}

export async function gatewayGet(
  baseUrl: string,
  path: string,
  options: RequestOptions = {},
): Promise<UserResponse> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  const cookie = options.jar?.header();
  if (cookie) headers.cookie = cookie;
  if (options.host) headers.host = options.host;
  const response = await fetch(`${baseUrl}${path}`, { method: options.method ?? "GET", headers });
  const body = await response.text();
  if (options.jar && !options.readOnlyJar) options.jar.store(response.headers);
  return { status: response.status, body, headers: response.headers, ...parseUserBody(body) };
}

export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      cwd: ROOT,
      env,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

interface Disposer {
  after(fn: () => Promise<void> | void): void;
}

/**
 * Starts a mesh on free ports and stops it in `t.after` — pass the test or suite
 * context, or undefined to stop it yourself.
 */
export async function startTestMesh(t: Disposer | undefined, options: MeshOptions = {}): Promise<TestMesh> {
  const mesh = await startMesh({ port: 0, adminPort: 0, ...options });
  const stop = () => mesh.stop();
  t?.after(stop);
  return {
    mesh,
    gatewayUrl: mesh.gatewayUrl,
    adminUrl: mesh.adminUrl,
    auth: { authorization: `Bearer ${mesh.admin.token}` },
    client: new ControlClient(mesh.adminUrl),
    get: (path, requestOptions) => gatewayGet(mesh.gatewayUrl, path, requestOptions),
    cli: (...args) => runCli([...args, "--admin", mesh.adminUrl]),
    stop,
  };
}

/** Runs `body` until `until` resolves: a bounded closed-loop load of `concurrency` clients. */
export async function underLoad<R extends UserResponse>(
  concurrency: number,
  request: () => Promise<R>,
  during: () => Promise<void>,
): Promise<{ total: number; failed: R[]; errors: unknown[] }> {
  let running = true;
  let total = 0;
  const failed: R[] = [];
  const errors: unknown[] = [];
  const worker = async () => {
    while (running) {
      try {
        const r = await request();
        total++;
        if (r.status !== 200) failed.push(r);
      } catch (err) {
        total++;
        errors.push(err);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  try {
    await during();
  } finally {
    running = false;
    await Promise.all(workers);
  }
  return { total, failed, errors };
}
