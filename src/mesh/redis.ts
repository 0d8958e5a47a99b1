/**
 * The session store for `up --store redis`: REDIS_URL when it is set, otherwise a private
 * redis-server on a free loopback port that lives and dies with the mesh (no persistence, so a
 * restarted mesh starts with no sessions). It is started through util-linux's `setpriv --pdeathsig`
 * where that exists, so the kernel kills it even when the mesh itself is SIGKILLed and cannot stop it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants } from "node:fs";
import { createConnection } from "node:net";
import { delimiter, join } from "node:path";
import { SessionAffinityError } from "../errors.js";
import { freeLoopbackPort } from "./free-port.js";

export interface RedisHandle {
  readonly url: string;
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

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** util-linux's setpriv when it knows `--pdeathsig` (2.33 and later); older ones would refuse it. */
function pdeathsigSetpriv(): string | undefined {
  const setpriv = onPath("setpriv");
  if (!setpriv) return undefined;
  const help = spawnSync(setpriv, ["--help"], { encoding: "utf8", timeout: 2000 });
  return help.stdout?.includes("--pdeathsig") ? setpriv : undefined;
}

export async function startRedisStore(redisUrl: string | undefined, timeoutMs = 5000): Promise<RedisHandle> {
  if (redisUrl) return { url: redisUrl, owned: false, stop: async () => {}, kill: () => {} };
  const redisServer = onPath("redis-server");
  if (!redisServer) {
    throw new SessionAffinityError(
      "ERR_RUNTIME",
      "--store redis: REDIS_URL is not set and redis-server is not on PATH; install Redis or set REDIS_URL",
    );
  }
  const port = await freeLoopbackPort();
  const setpriv = pdeathsigSetpriv();
  // setpriv execs redis-server in place (same pid) after asking for SIGKILL when its parent dies.
  const command = setpriv
    ? { file: setpriv, prefix: ["--pdeathsig", "SIGKILL", "--", redisServer] }
    : { file: redisServer, prefix: [] };
  let child: ChildProcess;
  try {
    child = spawn(
      command.file,
      [
        ...command.prefix,
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
      ],
      { stdio: "ignore" },
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
    url: `redis://127.0.0.1:${port}`,
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
