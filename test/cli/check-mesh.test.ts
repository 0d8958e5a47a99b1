/**
 * `session-affinity check` against the local mesh, one mesh for the file: the walkthrough's setups in
 * order (no rule, the project's rule, the app-cookie rule), then disruptions, with verdicts and exit
 * codes asserted.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { DEPLOY, FIXTURES, startTestMesh, type TestMesh } from "../helpers/mesh.js";

const TIMEOUT_MS = 60_000;

describe("check against the local mesh", () => {
  let tm: TestMesh;
  const check = (...args: string[]) =>
    runCli(["check", `${tm.gatewayUrl}/user`, "--admin", tm.adminUrl, ...args], { timeoutMs: TIMEOUT_MS });
  const apply = async (file: string) => {
    await tm.client.apply(file, await readFile(file, "utf8"));
  };

  before(async () => {
    // Five replicas as the walkthrough: with the app-cookie rule a client's first pod differs from the
    // one its cookie hashes to 4 times in 5, which keeps the stuck-counter majority far from chance.
    tm = await startTestMesh(undefined, {
      manifests: [join(DEPLOY, "session.yaml"), join(DEPLOY, "session-gateway.yaml")],
      replicas: 5,
      readyTimeoutMs: 120_000,
    });
  });
  after(() => tm?.stop());

  it("without a DestinationRule: spread, state lost, --expect sticky exits 1", async () => {
    const { code, stdout } = await check("--clients", "10", "--requests", "6", "--expect", "sticky");
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^affinity: off — \d+% of clients stayed on one pod$/m);
    assert.match(stdout, /^session state: lost/m);
    assert.match(stdout, /Requests spread over pods and each pod keeps its own sessions in memory/);
    assert.match(stdout, /^NOT MET: expected sticky, affinity is off$/m);
    const spread = await check("--clients", "10", "--requests", "6", "--expect", "spread", "--json");
    assert.equal(spread.code, 0, spread.stdout);
    const report = JSON.parse(spread.stdout);
    assert.ok(report.pods.length >= 3, `least request reaches several pods: ${report.pods}`);
    assert.ok(report.continuity.percent < 50);
  });

  it("with deploy/session-affinity.yaml: sticky and continuous with browser and frozen jars", async () => {
    await apply(join(DEPLOY, "session-affinity.yaml"));
    for (const jar of ["browser", "frozen"]) {
      const { code, stdout } = await check(
        "--jar",
        jar,
        "--clients",
        "10",
        "--requests",
        "6",
        "--expect",
        "sticky",
        "--expect-continuous",
      );
      assert.equal(code, 0, `${jar}: ${stdout}`);
      assert.match(stdout, /^affinity: on — 100% of clients stayed on one pod$/m, jar);
      assert.match(stdout, /^session state: kept — 100% of clients counted up by one/m, jar);
      assert.match(stdout, /affinity and session state both work/, jar);
    }
  });

  it("hashing the app's cookie without a ttl, frozen jar: sticky, counter stuck at 1, named as such", async () => {
    await apply(join(FIXTURES, "hash-app-cookie.yaml"));
    const { code, stdout } = await check(
      "--jar",
      "frozen",
      "--clients",
      "30",
      "--requests",
      "5",
      "--expect",
      "sticky",
      "--expect-continuous",
    );
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^affinity: on/m);
    assert.match(stdout, /^session state: lost/m);
    assert.match(stdout, /the walkthrough's stuck counter/);
    assert.match(stdout, /hash on a cookie the gateway generates/);
    assert.match(stdout, /^NOT MET: expected continuous, session state is lost$/m);
    assert.doesNotMatch(stdout, /NOT MET: expected sticky/);
    assert.match(stdout, /^\d+ +\S+ +1 1 1 1 1$/m, "a client whose every answer is a first visit");
  });

  it("the same rule with a browser jar: the app and the hash overwrite one cookie, nothing sticks", async () => {
    // A client sticks only while its hash lands where its newest session lives (about 1 in 3 here) and
    // counts on only if the first one did (1 in 5): 30 clients keep both far from the thresholds.
    const { code, stdout } = await check("--clients", "30", "--requests", "6", "--expect", "sticky");
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^affinity: (off|partial)/m);
    assert.match(stdout, /^session state: lost/m);
  });

  it("--scale 6 with the ring-hash rule: moved sessions are exactly the ones whose state is lost", async () => {
    await apply(join(DEPLOY, "session-affinity.yaml"));
    // 5→6 pods on a 1024-entry ring moves a quarter to a third of sessions (simulate: 27 %; the new
    // pod's share, and the points each old pod gives up): with 60 clients, half is about 3 sd away.
    const { code, stdout, stderr } = await check(
      "--clients",
      "60",
      "--requests",
      "6",
      "--scale",
      "6",
      "--json",
    );
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout);
    const d = report.disruption;
    assert.equal(d.label, "scale session-deployment to 6");
    assert.equal(d.clients, 60);
    assert.equal(d.failedAfter, 0);
    assert.equal(d.requestsAfter, 180);
    assert.ok(d.moved.count < 60 / 2, `a consistent hash moves a minority: ${d.moved.count}`);
    // Memory store: a session that moved reaches a pod that never saw it; one that stayed keeps counting.
    assert.equal(d.lost.count, d.moved.count);
    assert.equal(report.affinity, "on");
    assert.match(report.verdict.at(-1), /^after scale session-deployment to 6: \d+% of sessions moved pod/);
    assert.equal((await tm.client.info()).settled, true);
    assert.equal((await tm.client.resource("pods")).items.filter((p) => p.ready).length, 6);
  });

  it("--kill-pod: the pod's sessions lose their state, reported in the text verdict", async () => {
    const { code, stdout, stderr } = await check("--clients", "40", "--requests", "6", "--kill-pod");
    assert.equal(code, 0, stderr);
    const line =
      /^after SIGKILL of one session-deployment pod: (\d+)% of sessions moved pod, (\d+)% lost their state, (\d+) of 120 requests failed$/m.exec(
        stdout,
      );
    assert.ok(line, stdout);
    const [moved, lost, failed] = [Number(line[1]), Number(line[2]), Number(line[3])];
    // The check resumes only once the mesh has seen the kill and the pod is back: no request meets a
    // dead port (the consistent hash would retry on that same host and fail).
    assert.equal(failed, 0, stdout);
    assert.ok(
      lost >= moved,
      "every moved session lost its state, and so did those left on the restarted pod",
    );
    // One pod of six holds about a sixth of 40 sessions; none at all there has odds below 1 in 1000.
    assert.ok(lost > 0 && lost < 100, `one pod of six: ${lost}%`);
    assert.match(stdout, /^ {2}state lost: \d+% \(\d+\/40\) of sessions$/m);
  });
});
