import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlClient } from "../../src/mesh/control-client.js";
import { ROOT, runCli } from "../helpers/mesh.js";
import { alive } from "../helpers/process.js";

interface RunningUp {
  readonly process: ChildProcess;
  readonly admin: string;
  readonly gateway: string;
}

/** `up` from the sources with free ports, once it printed its addresses (bounded). */
async function startUp(args: readonly string[]): Promise<RunningUp> {
  const up = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "up", ...args, "--port", "0", "--admin-port", "0"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  up.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const deadline = Date.now() + 20_000;
  while (!/admin\s+(\S+)/.test(output)) {
    if (Date.now() > deadline || up.exitCode !== null) {
      up.kill("SIGKILL");
      throw new Error(`up did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    process: up,
    admin: /admin\s+(\S+)/.exec(output)?.[1] ?? "",
    gateway: /gateway\s+(\S+)/.exec(output)?.[1] ?? "",
  };
}

/** The pids of the pods that have a process, from the admin API. */
async function podPids(admin: string): Promise<number[]> {
  const state = await new ControlClient(admin).state();
  return state.pods.map((p) => p.pid).filter((p): p is number => p !== undefined);
}

describe("session-affinity up --empty, then the walkthrough's verbs", () => {
  let up: ChildProcess;
  let admin = "";
  let gateway = "";
  before(async () => {
    ({ process: up, admin, gateway } = await startUp(["--empty"]));
  });
  after(() => {
    if (up.exitCode === null) up.kill("SIGKILL");
  });

  it("replays apply, scale, get and serves the gateway, then Ctrl-C stops every process", async () => {
    const cli = (...args: string[]) => runCli([...args, "--admin", admin]);
    const applied = await cli("apply", "-f", "deploy/session.yaml");
    assert.equal(applied.stdout, "deployment.apps/session-deployment created\nservice/session-svc created\n");
    assert.equal((await cli("scale", "deployment.v1.apps/session-deployment", "--replicas=2")).code, 0);
    assert.equal((await cli("apply", "-f", "deploy/session-gateway.yaml")).code, 0);
    const deadline = Date.now() + 20_000;
    let deploy = "";
    while (!/session-deployment\s+2\/2/.test(deploy)) {
      assert.ok(Date.now() < deadline, deploy);
      deploy = (await cli("get", "deploy")).stdout;
    }
    const response = await fetch(`${gateway}/user`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^Hostname: session-deployment-\S+<br>\n1st time access\.\n$/);
    const pids = await podPids(admin);
    // The two ready pods, and the one scale-down left terminating if it has not exited yet: all checked.
    assert.ok(pids.length >= 2, `pods with a process: ${pids.length}`);
    up.kill("SIGINT");
    const [code] = await once(up, "exit");
    assert.equal(code, 0);
    assert.deepEqual(pids.filter(alive), [], "no pod outlives up");
  });

  it("rejects bad flags with exit code 2 and one line naming the flag", async () => {
    const r = await runCli(["up", "--store", "disk"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "session-affinity: up: --store disk must be memory or redis\n");
    assert.equal((await runCli(["up", "--port", "http"])).code, 2);
  });
});

describe("session-affinity up, SIGKILLed", () => {
  it("takes its pods with it: the kernel kills them when up dies", async (t) => {
    const { process: up, admin } = await startUp(["--replicas", "2"]);
    let pids: number[] = [];
    t.after(() => {
      if (up.exitCode === null) up.kill("SIGKILL");
      for (const pid of pids.filter(alive)) process.kill(pid, "SIGKILL");
    });
    const deadline = Date.now() + 20_000;
    while (pids.length < 2) {
      assert.ok(Date.now() < deadline, `pods with a process: ${pids.length}`);
      pids = await podPids(admin);
      if (pids.length < 2) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(pids.filter(alive), pids, "the pods run while up does");

    up.kill("SIGKILL");
    await once(up, "exit");
    for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(pids.filter(alive), [], "no pod outlives a SIGKILLed up");
  });
});

describe("session-affinity up with a bad manifest", () => {
  it("prints the findings that rejected it, then the one-line summary, and exits 2", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "up-bad-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    for (const file of ["session.yaml", "session-gateway.yaml"])
      await writeFile(join(dir, file), await readFile(join(ROOT, "deploy", file), "utf8"));
    const affinity = await readFile(join(ROOT, "deploy", "session-affinity.yaml"), "utf8");
    await writeFile(join(dir, "session-affinity.yaml"), affinity.replace("consistentHash", "consistantHash"));
    const r = await runCli(["up", dir, "--port", "0", "--admin-port", "0"]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trimEnd().split("\n");
    assert.match(
      lines[0] ?? "",
      /session-affinity\.yaml:\d+ DestinationRule\/session schema\/unknown-field .*consistantHash/,
    );
    assert.match(lines.at(-1) ?? "", /rejected with 1 error; nothing applied$/);
  });
});
