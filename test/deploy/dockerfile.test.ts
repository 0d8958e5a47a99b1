import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";

/**
 * No container engine runs here, so the image is checked statically: the instructions that make it
 * small, non-root and startable with the package's own bin.
 */
interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly lines: string[];
}

async function stages(): Promise<{ args: Map<string, string>; stages: Stage[] }> {
  const text = await readFile("Dockerfile", "utf8");
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const args = new Map<string, string>();
  const out: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      const image = (from[1] ?? "").replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? "");
      out.push({ from: image, name: from[2], lines: [] });
      continue;
    }
    const arg = /^ARG\s+(\w+)=(\S+)/.exec(line);
    if (arg && out.length === 0) args.set(arg[1] as string, arg[2] as string);
    out.at(-1)?.lines.push(line);
  }
  return { args, stages: out };
}

describe("Dockerfile", () => {
  it("builds in one stage and runs from another", async () => {
    const { stages: all } = await stages();
    assert.ok(all.length >= 2);
    const final = all.at(-1);
    assert.ok(final?.lines.some((l) => /^COPY --from=\S+ \/app\/dist/.test(l)));
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

  it("installs only production dependencies, without scripts, in the final stage", async () => {
    const final = (await stages()).stages.at(-1);
    const installs = final?.lines.filter((l) => /npm (ci|install)/.test(l)) ?? [];
    assert.equal(installs.length, 1);
    assert.match(installs[0] ?? "", /npm ci --omit=dev --ignore-scripts/);
    assert.ok(
      !final?.lines.some((l) => /^COPY .*node_modules/.test(l)),
      "node_modules copied into the final stage",
    );
    assert.ok(
      !final?.lines.some((l) => /^COPY (--chown=\S+ )?src\b/.test(l)),
      "sources copied into the final stage",
    );
  });

  it("runs as a non-root numeric user", async () => {
    const final = (await stages()).stages.at(-1);
    const user = final?.lines.filter((l) => l.startsWith("USER ")).at(-1);
    const match = /^USER (\d+)(?::(\d+))?$/.exec(user ?? "");
    assert.ok(match, `final USER is ${user}`);
    assert.notEqual(Number(match[1]), 0);
  });

  it("starts with node as PID 1 running the package bin's serve command", async () => {
    const final = (await stages()).stages.at(-1);
    const pkg = JSON.parse(await readFile("package.json", "utf8")) as { bin: Record<string, string> };
    const cmd = final?.lines.filter((l) => l.startsWith("CMD ")).at(-1);
    assert.deepEqual(JSON.parse(cmd?.slice(4) ?? "null"), ["node", pkg.bin["session-affinity"], "serve"]);
    assert.ok(!final?.lines.some((l) => l.startsWith("ENTRYPOINT")), "an ENTRYPOINT would wrap node");
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
