/**
 * The session store for `up --store redis`: REDIS_URL when it is set, otherwise a private
 * redis-server on a free loopback port that lives and dies with the mesh (no persistence, so a
 * restarted mesh starts with no sessions). Like the pods, it dies with the mesh even when the mesh is
 * SIGKILLed (see child-command.ts). It needs a random password, so other local users cannot read or
 * forge sessions; its configuration goes in on standard input, where `ps` does not show it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createConnection } from "node:net";
import { SessionAffinityError } from "../errors.js";
import { diesWithParent, onPath } from "./child-command.js";
import { freeLoopbackPort } from "./free-port.js";

export interface RedisHandle {
  /** The URL the pods connect with, password included. */
  readonly url: string;
  /** The same without its password, for output. */
  readonly shownUrl: string;
  /** Whether the mesh started this server (and so stops it). */
  readonly owned: boolean;
  readonly pid?: number;
  stop(): Promise<void>;
  /** SIGKILL at once (process exit). */
  kill(): void;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startRedisStore(redisUrl: string | undefined, timeoutMs = 5000): Promise<RedisHandle> {
  if (redisUrl) {
    return {
      url: redisUrl,
      shownUrl: withoutPassword(redisUrl),
      owned: false,
      stop: async () => {},
      kill: () => {},
    };
  }
  const redisServer = onPath("redis-server");
  if (!redisServer) {
    throw new SessionAffinityError(
      "ERR_RUNTIME",
      "--store redis: REDIS_URL is not set and redis-server is not on PATH; install Redis or set REDIS_URL",
    );
  }
  const port = await freeLoopbackPort();
  const password = randomBytes(24).toString("hex");
  let child: ChildProcess;
  try {
    const command = diesWithParent(redisServer, ["-"]);
    child = spawn(command.file, [...command.args], { stdio: ["pipe", "ignore", "ignore"] });
    child.stdin?.on("error", () => {});
    child.stdin?.end(
      [
        `port ${port}`,
        "bind 127.0.0.1",
        'save ""',
        "appendonly no",
        "protected-mode yes",
        `requirepass ${password}`,
        "",
      ].join("\n"),
    );
    await Promise.race([
      once(child, "spawn"),
      once(child, "error").then(([err]) => {
        throw err;
      }),
    ]);
  } catch (err) {
    throw new SessionAffinityError(
      "ERR_RUNTIME",
      `--store redis: REDIS_URL is not set and redis-server could not be started (${(err as Error).message}); install Redis or set REDIS_URL`,
      { cause: err },
    );
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new SessionAffinityError(
        "ERR_RUNTIME",
        `--store redis: redis-server did not start on 127.0.0.1:${port}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // Something else may have taken the port while ours failed to bind and exited: that is not our store.
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new SessionAffinityError(
      "ERR_RUNTIME",
      `--store redis: redis-server exited instead of listening on 127.0.0.1:${port}`,
    );
  }
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    shownUrl: `redis://127.0.0.1:${port}`,
    owned: true,
    ...(child.pid === undefined ? {} : { pid: child.pid }),
    kill() {
      child.kill("SIGKILL");
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === "") return url;
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}
