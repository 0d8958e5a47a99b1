import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
const MAIN = join(ROOT, "src", "cli", "main.ts");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `session-affinity ARGS` from the sources and collects its output (bounded by timeoutMs). */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** Starts a long-running `session-affinity ARGS` and resolves once `ready` matches its stdout. */
export function startCli(args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 15_000) {
  return new Promise<{ child: ChildProcess; stdout: () => string; exited: Promise<number | null> }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`not ready within ${timeoutMs} ms: ${out}`));
      }, timeoutMs);
      child.stdout?.on("data", (d) => {
        out += d;
        if (ready.test(out)) {
          clearTimeout(timer);
          resolve({ child, stdout: () => out, exited });
        }
      });
      child.stderr?.on("data", (d) => {
        out += d;
      });
    },
  );
}
