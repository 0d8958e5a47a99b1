import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** SIGKILL the server (data on disk survives when append-only persistence is on). */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a frozen server accepts TCP connections but never answers. */
  freeze(): void;
  thaw(): void;
  /** Start again on the same port and directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisOptions {
  appendOnly?: boolean;
  extraArgs?: string[];
  port?: number;
  dir?: string;
}

/** Starts a private redis-server on a free loopback port; never touches the machine's shared one. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "sa-redis-")));
  const ownsDir = options.dir === undefined;
  let child: ChildProcess | undefined;

  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    options.appendOnly ? "yes" : "no",
    ...(options.appendOnly ? ["--appendfsync", "always"] : []),
    "--protected-mode",
    "no",
    ...(options.extraArgs ?? []),
  ];

  const launch = async () => {
    child = spawn("redis-server", args, { stdio: "ignore" });
    await waitForPort(port, 5000);
  };
  await launch();

  const exited = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) resolve();
      else c.once("exit", () => resolve());
    });

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async kill() {
      if (!child) return;
      const c = child;
      c.kill("SIGKILL");
      await exited(c);
    },
    freeze() {
      child?.kill("SIGSTOP");
    },
    thaw() {
      child?.kill("SIGCONT");
    },
    async restart() {
      await launch();
    },
    async stop() {
      if (child) {
        const c = child;
        c.kill("SIGCONT");
        c.kill("SIGKILL");
        await exited(c);
      }
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
