/**
 * The control API's bearer token. Anyone who can reach 127.0.0.1 could otherwise drive the mesh
 * (apply manifests, kill pods), so `up` makes a random token and writes it where only this user can
 * read it — a 0600 file in a 0700 folder, as kubeconfig and Jupyter's runtime files are kept — and the
 * CLI and the dashboard read it from there.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** The cookie the dashboard page carries the token in once opened with `/?token=…`. */
export const ADMIN_TOKEN_COOKIE = "session-affinity-admin";

/** The folder of token files: SESSION_AFFINITY_RUNTIME_DIR, else $XDG_RUNTIME_DIR/session-affinity, else ~/.session-affinity. */
export function adminTokenDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SESSION_AFFINITY_RUNTIME_DIR) return env.SESSION_AFFINITY_RUNTIME_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "session-affinity");
  return join(homedir(), ".session-affinity");
}

/** One file per admin port, so meshes on different ports keep their own tokens. */
export function adminTokenFile(port: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(adminTokenDir(env), `admin-${port}.token`);
}

export function newAdminToken(): string {
  return randomBytes(32).toString("base64url");
}

export async function writeAdminToken(port: number, token: string): Promise<string> {
  const dir = adminTokenDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = adminTokenFile(port);
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file; one left by an earlier mesh keeps its own.
  await chmod(file, 0o600);
  return file;
}

export async function removeAdminToken(port: number, token: string): Promise<void> {
  // Only our own: another mesh may have taken the port (and the file) since.
  if ((await readAdminToken(port)) === token) await rm(adminTokenFile(port), { force: true });
}

/** The token of the mesh whose admin API listens on `port`, or undefined when none was written. */
export async function readAdminToken(port: number): Promise<string | undefined> {
  try {
    return (await readFile(adminTokenFile(port), "utf8")).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Constant-time comparison, so the answer's timing does not tell how much of a guess was right. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
