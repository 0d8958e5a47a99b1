import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { explain } from "../../src/explain/index.js";
import { proxyView } from "../../src/explain/proxy-view.js";
import { normalizeEndpoints } from "../../src/lb/endpoint.js";
import { computeHash } from "../../src/lb/hash-policy.js";
import { createLoadBalancer } from "../../src/lb/registry.js";
import { toConfigDump } from "../../src/proxy-config/config-dump.js";
import { dumpOf } from "../helpers/config-dump.js";
import { runCli } from "../helpers/mesh.js";
import { HOST, PODS, walkthroughInput } from "../istiod/walkthrough-input.js";

const CLUSTER = `outbound|80||${HOST}`;
const view = (dump: Record<string, unknown>, replicas?: number) =>
  proxyView(toConfigDump(dump, "dump.json"), undefined, replicas);
const request = (path = "/user", headers: [string, string][] = []) => ({
  authority: "session.example.com",
  path,
  method: "GET",
  headers,
});

describe("explain: the path through a dump", () => {
  it("follows a request from the listener to the route, the cluster and its hosts, with JSON paths into the dump", () => {
    const report = explain(view(dumpOf(walkthroughInput())), { request: request(), appCookies: [] });
    assert.equal(report.routes.length, 1);
    const r = report.routes[0];
    assert.equal(r?.listener.name, "0.0.0.0_8080");
    assert.equal(r?.routeConfig?.name, "http.8080");
    assert.match(
      r?.route?.path ?? "",
      /^configs\[\d+\]\.dynamicRouteConfigs\[0\]\.routeConfig\.virtualHosts\[0\]\.routes\[0\]$/,
    );
    assert.deepEqual(
      r?.clusters.map((c) => [c.name, c.lbPolicy, c.hosts.map((h) => h.address)]),
      [[CLUSTER, "RING_HASH", PODS.map((p) => `${p.address}:8080`)]],
    );
    assert.equal(report.proxy.kind, "gateway");
    assert.equal(report.proxy.istioVersion, "1.30.3");
  });

  it("reports every route of every listener when no request is given", () => {
    const report = explain(view(dumpOf(walkthroughInput())), { appCookies: [] });
    assert.equal(report.routes.length, 1);
    assert.equal(
      report.routes[0]?.route?.name,
      "/apis/networking.istio.io/v1/namespaces/default/virtual-service/session",
    );
  });

  it("places a cookie on the pod Envoy's ring hash picks for it, and predicts what a scale-out moves", () => {
    const report = explain(view(dumpOf(walkthroughInput())), {
      request: request(),
      appCookies: [],
      placement: { keys: ["071ab12ec2c21647"], sessions: 1000, change: { add: 1 } },
    });
    const p = report.routes[0]?.placement[0];
    const lb = createLoadBalancer(
      "ring-hash",
      normalizeEndpoints(PODS.map((pod) => ({ address: `${pod.address}:8080` }))),
      { minRingSize: 1024 },
    );
    const { hash } = computeHash([{ kind: "cookie", name: "session-route" }], {
      headers: [["cookie", "session-route=071ab12ec2c21647"]],
      path: "/",
    });
    assert.equal(p?.keys[0]?.endpoint, lb.choose({ hash })?.address);
    assert.equal(p?.keyKind, "cookie session-route");
    assert.equal(
      Object.values(p?.distribution ?? {}).reduce((s, n) => s + n, 0),
      1000,
    );
    // A fourth host takes about a quarter of the sessions from the three.
    assert.ok(
      p?.change && p.change.movedPercent > 10 && p.change.movedPercent < 40,
      `${p?.change?.movedPercent}`,
    );
    assert.equal(p?.change?.lost, 0);
  });

  it("has no route (Envoy's 404) for a request no route matches", () => {
    const input = walkthroughInput();
    const vs = input.virtualServices.map((o) => ({
      ...o,
      spec: {
        ...(o.spec as object),
        http: [{ match: [{ uri: { prefix: "/api" } }], route: [{ destination: { host: "session-svc" } }] }],
      },
    }));
    const report = explain(view(dumpOf({ ...input, virtualServices: vs })), {
      request: request("/user"),
      appCookies: [],
    });
    assert.equal(report.routes[0]?.route, undefined);
    assert.equal(report.verdict, "not-sticky");
  });
});

describe("explain: the command", () => {
  let dir: string;
  let sticky: string;
  let plain: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sa-explain-"));
    sticky = join(dir, "sticky.json");
    plain = join(dir, "plain.json");
    await writeFile(sticky, JSON.stringify(dumpOf(walkthroughInput())));
    const input = walkthroughInput();
    await writeFile(plain, JSON.stringify(dumpOf({ ...input, destinationRules: [] })));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("exits 0 when the verdict is the one --expect names, 1 when it is not", async () => {
    const ok = await runCli([
      "explain",
      "--config-dump",
      sticky,
      "--host",
      "a.example",
      "--path",
      "/user",
      "--json",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const verdict = (JSON.parse(ok.stdout) as { verdict: string }).verdict;
    assert.notEqual(verdict, "not-sticky");
    const notSticky = await runCli([
      "explain",
      "--config-dump",
      plain,
      "--path",
      "/user",
      "--expect",
      "sticky",
    ]);
    assert.equal(notSticky.code, 1, notSticky.stderr);
    assert.match(notSticky.stdout, /verdict: NOT STICKY/);
  });

  it("refuses bad input with one line naming what is wrong, exit 2", async () => {
    const notJson = join(dir, "not.json");
    await writeFile(notJson, '{"configs": [');
    for (const [args, pattern] of [
      [["--config-dump", notJson], /not JSON/],
      [["--config-dump", join(dir, "missing.json")], /--config-dump .*missing\.json: ENOENT/],
      [["--config-dump", sticky, "--sessions=-3"], /--sessions -3: must be a whole number/],
      [["--config-dump", sticky, "--header", "novalue"], /--header novalue: expected NAME=VALUE/],
      [["--config-dump", sticky, "--expect", "sometimes"], /--expect sometimes/],
      [["--config-dump", sticky, "--admin", "http://127.0.0.1:1"], /give one input/],
    ] as const) {
      const r = await runCli(["explain", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr.trim(), pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
    const notDump = join(dir, "list.json");
    await writeFile(notDump, "[1, 2]");
    const r = await runCli(["explain", "--config-dump", notDump]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not an Envoy config dump/);
  });
});

describe("explain: every deploy/ variant, as the local mesh's gateway dumps it", () => {
  const verdictOf = (input: Parameters<typeof dumpOf>[0], replicas?: number) =>
    explain(view(dumpOf(input), replicas), { request: request(), appCookies: [] });

  it("finds the cookie, header, source-IP and Maglev variants sticky on one gateway", () => {
    for (const component of [undefined, "header-hash", "source-ip-hash", "maglev"] as const) {
      const report = verdictOf(walkthroughInput(component), 1);
      assert.equal(
        report.verdict,
        "sticky",
        `${component ?? "cookie"}: ${JSON.stringify(report.routes[0]?.findings)}`,
      );
    }
  });

  it("finds the persistent-session variant sticky through the stateful session, with the non-strict caveat", () => {
    const report = verdictOf(
      { ...walkthroughInput("persistent-session"), features: { enablePersistentSessionFilter: true } },
      1,
    );
    assert.equal(report.verdict, "sticky-with-caveats");
    assert.deepEqual(
      report.routes[0]?.findings.map((f) => f.id),
      ["session-not-strict"],
    );
  });

  it("finds the walkthrough without its DestinationRule not sticky, and says the cluster does not hash", () => {
    const report = verdictOf({ ...walkthroughInput(), destinationRules: [] }, 1);
    assert.equal(report.verdict, "not-sticky");
    assert.ok(report.routes[0]?.findings.some((f) => f.id === "no-consistent-hash"));
  });
});
