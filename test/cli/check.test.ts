import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { freePort } from "../helpers/ports.js";
import { startTestService } from "../helpers/service.js";

test("check against a single replica: counts continue, affinity cannot be judged, exit 0", async (t) => {
  const service = await startTestService(t);
  const { code, stdout } = await runCli([
    "check",
    `${service.url}/user`,
    "--clients",
    "3",
    "--requests",
    "4",
  ]);
  assert.equal(code, 0);
  assert.match(stdout, /^1 +pod-under-test +1 2 3 4$/m);
  assert.match(stdout, /affinity: cannot tell — only one pod answered \(pod-under-test\)/);
  assert.match(stdout, /session state: kept/);
});

test("check --json reports the measurements; --expect spread on one pod exits 1", async (t) => {
  const service = await startTestService(t);
  const { code, stdout } = await runCli([
    "check",
    service.url,
    "--json",
    "--clients",
    "2",
    "--requests",
    "3",
    "--expect",
    "spread",
    "--expect-continuous",
  ]);
  assert.equal(code, 1);
  const report = JSON.parse(stdout);
  assert.equal(report.url, `${service.url}/user`, "a bare origin checks /user");
  assert.equal(report.succeeded, 6);
  assert.equal(report.state, "kept");
  assert.deepEqual(report.unmet, ["expected spread, affinity is unknown"]);
});

test("--jar frozen against a replica that keeps sessions still counts: the first cookie stays valid", async (t) => {
  const service = await startTestService(t);
  const { code, stdout } = await runCli([
    "check",
    `${service.url}/user`,
    "--jar",
    "frozen",
    "--clients",
    "2",
    "--requests",
    "3",
    "--expect-continuous",
  ]);
  assert.equal(code, 0, stdout);
});

test("a refused connection is reported by kind and exits 1", async () => {
  const port = await freePort();
  const { code, stdout } = await runCli([
    "check",
    `http://127.0.0.1:${port}/user`,
    "--clients",
    "1",
    "--requests",
    "2",
  ]);
  assert.equal(code, 1);
  assert.match(stdout, /failures: +refused 2/);
  assert.match(stdout, /NOT MET: no request was answered/);
});

test("non-2xx answers and unparsable bodies are failures of their own kinds", async (t) => {
  const service = await startTestService(t);
  const notFound = await runCli(["check", `${service.url}/nope`, "--clients", "1", "--requests", "2"]);
  assert.match(notFound.stdout, /failures: +status 2/);
  const metrics = await runCli(["check", `${service.url}/healthz`, "--clients", "1", "--requests", "2"]);
  assert.match(metrics.stdout, /failures: +unparsable 2/);
});

test("--during runs the command at half time and reports what happened after it", async (t) => {
  const service = await startTestService(t);
  const { code, stdout, stderr } = await runCli([
    "check",
    `${service.url}/user`,
    "--clients",
    "2",
    "--requests",
    "4",
    "--during",
    "echo disrupted",
  ]);
  assert.equal(code, 0);
  assert.match(stderr, /disrupted/);
  assert.match(
    stdout,
    /after `echo disrupted`: 0% of sessions moved pod, 0% lost their state, 0 of 4 requests failed/,
  );
});

const bad: [string[], RegExp][] = [
  [["check"], /check: a URL is required/],
  [["check", "ftp://x"], /must be http:\/\/ or https:\/\//],
  [["check", "not a url"], /is not a valid URL/],
  [["check", "http://x", "--clients", "0"], /--clients "0" must be a whole number from 1/],
  [["check", "http://x", "--jar", "sticky"], /--jar "sticky" must be browser or frozen/],
  [["check", "http://x", "--expect", "maybe"], /--expect "maybe" must be sticky or spread/],
  [["check", "http://x", "--header", "novalue"], /--header "novalue" must be NAME=VALUE/],
  [["check", "http://x", "--bogus"], /check: Unknown option '--bogus'/],
];
for (const [args, message] of bad) {
  test(`check ${args.slice(1).join(" ")} exits 2 with one line`, async () => {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split("\n").length, 1);
  });
}

test("check --help documents every option", async () => {
  const { code, stdout } = await runCli(["check", "--help"]);
  assert.equal(code, 0);
  for (const flag of [
    "--clients",
    "--requests",
    "--jar",
    "--header",
    "--during",
    "--expect",
    "--expect-continuous",
    "--json",
  ]) {
    assert.ok(stdout.includes(flag), flag);
  }
});
