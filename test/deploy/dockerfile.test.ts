import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  type Dockerfile,
  parseDockerfile,
  type ReplayedStage,
  replayDockerfile,
  type Stage,
} from "../helpers/dockerfile-replay.js";

async function stages(): Promise<Dockerfile> {
  return parseDockerfile(await readFile("Dockerfile", "utf8"));
}

/** A stage's instructions as the old static checks read them: `KEYWORD args`. */
const linesOf = (stage: Stage | undefined) => stage?.instructions.map((i) => `${i.keyword} ${i.args}`) ?? [];

describe("Dockerfile", () => {
  it("builds in one stage and runs from another", async () => {
    const { stages: all } = await stages();
    assert.ok(all.length >= 2);
    const final = all.at(-1);
    assert.ok(linesOf(final).some((l) => /^COPY --from=\S+ \/app\/dist/.test(l)));
  });

  it("uses a Node LTS base pinned to an exact version", async () => {
    const { stages: all } = await stages();
    for (const stage of all) {
      const match = /^node:(\d+)\.(\d+)\.(\d+)(-[\w.-]+)?$/.exec(stage.from);
      assert.ok(match, `${stage.from} is not node:<major>.<minor>.<patch>`);
      const major = Number(match[1]);
      assert.ok(major >= 20 && major % 2 === 0, `node ${major} is not an LTS line`);
    }
  });

  it("keeps npm's cache out of every layer: each npm ci uses a cache mount", async () => {
    const runs = (await stages()).stages.flatMap((st) =>
      linesOf(st).filter((l) => /\bnpm (ci|install)\b/.test(l)),
    );
    assert.ok(runs.length >= 2);
    for (const r of runs) assert.match(r, /^RUN --mount=type=cache,target=\/root\/\.npm npm ci /);
    assert.ok(!runs.some((r) => r.includes("npm cache clean")), "a cache mount needs no clean");
  });

  it("installs only production dependencies, without scripts, in the final stage", async () => {
    const final = (await stages()).stages.at(-1);
    const installs = linesOf(final).filter((l) => /npm (ci|install)/.test(l)) ?? [];
    assert.equal(installs.length, 1);
    assert.match(installs[0] ?? "", /npm ci --omit=dev --ignore-scripts$/);
    assert.ok(
      !linesOf(final).some((l) => /^COPY .*node_modules/.test(l)),
      "node_modules copied into the final stage",
    );
    assert.ok(
      !linesOf(final).some((l) => /^COPY (--chown=\S+ )?src\b/.test(l)),
      "sources copied into the final stage",
    );
  });

  it("runs as a non-root numeric user", async () => {
    const final = (await stages()).stages.at(-1);
    const user = linesOf(final)
      .filter((l) => l.startsWith("USER "))
      .at(-1);
    const match = /^USER (\d+)(?::(\d+))?$/.exec(user ?? "");
    assert.ok(match, `final USER is ${user}`);
    assert.notEqual(Number(match[1]), 0);
  });

  it("starts with node as PID 1 running the package bin's serve command", async () => {
    const final = (await stages()).stages.at(-1);
    const pkg = JSON.parse(await readFile("package.json", "utf8")) as { bin: Record<string, string> };
    const cmd = linesOf(final)
      .filter((l) => l.startsWith("CMD "))
      .at(-1);
    assert.deepEqual(JSON.parse(cmd?.slice(4) ?? "null"), ["node", pkg.bin["session-affinity"], "serve"]);
    assert.ok(!linesOf(final).some((l) => l.startsWith("ENTRYPOINT")), "an ENTRYPOINT would wrap node");
  });
});

describe("Dockerfile, replayed stage by stage without an engine", () => {
  let into = "";
  let replayed: ReplayedStage[] = [];
  const stage = (name: string) => {
    const found = replayed.find((s) => s.stage.name === name);
    assert.ok(found, `no stage ${name}`);
    return found;
  };
  const pkg = async () =>
    JSON.parse(await readFile("package.json", "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };

  before(
    async () => {
      into = await mkdtemp(join(tmpdir(), "image-replay-"));
      const npmCache = (await promisify(execFile)("npm", ["config", "get", "cache"])).stdout.trim();
      replayed = await replayDockerfile(await stages(), {
        context: process.cwd(),
        into,
        baseEnv: { PATH: process.env.PATH ?? "", HOME: into },
        npmCache,
      });
    },
    { timeout: 480_000 },
  );
  after(() => rm(into, { recursive: true, force: true }));

  it("the build stage builds the service and the dashboard from exactly what its COPY lines bring", async () => {
    const build = stage("build");
    const app = join(build.root, build.workdir);
    for (const built of ["dist/cli/main.js", "dist/app/server.js", "dist/dashboard/public/dashboard.js"]) {
      assert.ok((await stat(join(app, built))).isFile(), `${built} was not built`);
    }
    assert.deepEqual(
      build.runs.map((r) => r.command),
      ["npm ci --ignore-scripts", "npm run build"],
    );
  });

  it("the runtime stage holds the package files, dist/ and production dependencies, nothing else", async () => {
    const runtime = stage("runtime");
    const app = join(runtime.root, runtime.workdir);
    assert.deepEqual((await readdir(app)).sort(), [
      "dist",
      "node_modules",
      "package-lock.json",
      "package.json",
    ]);
    const installed = new Set<string>();
    for (const entry of await readdir(join(app, "node_modules"))) {
      if (!entry.startsWith("@")) installed.add(entry);
      else
        for (const inner of await readdir(join(app, "node_modules", entry)))
          installed.add(`${entry}/${inner}`);
    }
    const { dependencies, devDependencies } = await pkg();
    for (const name of Object.keys(dependencies)) assert.ok(installed.has(name), `${name} is missing`);
    const dev = Object.keys(devDependencies).filter((name) => installed.has(name));
    assert.deepEqual(dev, [], "development dependencies in the image");
    assert.equal(runtime.env.NODE_ENV, "production");
  });

  it("the runtime stage's CMD serves /healthz and /user, and stops on SIGTERM with exit 0", async (t) => {
    const runtime = stage("runtime");
    const [command, ...args] = runtime.cmd ?? [];
    assert.equal(command, "node");
    const child = spawn(process.execPath, args, {
      cwd: join(runtime.root, runtime.workdir),
      env: {
        PATH: process.env.PATH ?? "",
        ...runtime.env,
        PORT: "0",
        HOST: "127.0.0.1",
        SHUTDOWN_DELAY_MS: "0",
        POD_NAME: "image-replay",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    t.after(() => child.kill("SIGKILL"));
    let output = "";
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in 20 s:\n${output}`)), 20_000);
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
        const listening = /"port":(\d+)[^\n]*"msg":"session service listening"/.exec(output);
        if (listening) {
          clearTimeout(timer);
          resolve(Number(listening[1]));
        }
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
      });
      child.once("exit", (code) => reject(new Error(`exited ${code} before listening:\n${output}`)));
    });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    const user = await fetch(`http://127.0.0.1:${port}/user`);
    assert.equal(user.status, 200);
    assert.match(await user.text(), /^Hostname: image-replay<br>\n1st time access\.\n$/);
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
  });
});

describe(".dockerignore", () => {
  it("keeps dependencies, build output, tests and VCS data out of the build context", async () => {
    const entries = new Set((await readFile(".dockerignore", "utf8")).split("\n").map((l) => l.trim()));
    for (const required of ["node_modules", "dist", ".git", "test", "coverage", "*.log", ".env"]) {
      assert.ok(entries.has(required), `.dockerignore lacks ${required}`);
    }
    for (const needed of [
      "src",
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
    ]) {
      assert.ok(!entries.has(needed), `.dockerignore excludes ${needed}, which the build needs`);
    }
  });
});
