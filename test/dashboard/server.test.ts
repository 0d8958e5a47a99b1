/**
 * The dashboard's server side against a running mesh: the page's files and headers, the admin API's
 * origin rules kept for the new endpoints, the event stream, the simulated traffic, the routing
 * policy read from the pushed config, the affinity variants read from deploy/, and the live store
 * switch.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import type { HelloEvent, ManifestsEvent, TickEvent, TrafficView } from "../../src/dashboard/protocol.js";
import { applyJsonPatch, loadVariants } from "../../src/dashboard/variants.js";
import { CookieJar, DEPLOY, ROOT, startTestMesh, type TestMesh } from "../helpers/mesh.js";

// The store switch must start its own redis-server, never use a shared one.
delete process.env.REDIS_URL;

const hasKubectl = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0;
const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

async function post(mesh: TestMesh, path: string, body: unknown) {
  return fetch(`${mesh.adminUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...mesh.auth },
    body: JSON.stringify(body),
  });
}

/** A raw request, for headers fetch will not let a caller set (Origin, Host). */
function rawStatus(url: string, method: string, headers: Record<string, string>, body = ""): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("error", reject);
    req.end(body);
  });
}

/** Reads server-sent events until `until` says stop (or the time is up). */
async function readEvents(
  mesh: TestMesh,
  url: string,
  until: (events: { event: string; data: unknown }[]) => boolean,
  timeoutMs = 10_000,
): Promise<{ event: string; data: unknown }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: { event: string; data: unknown }[] = [];
  try {
    const response = await fetch(url, { signal: controller.signal, headers: mesh.auth });
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
        end = buffer.indexOf("\n\n");
      }
      if (until(events)) break;
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

describe("dashboard server", { timeout: 240_000 }, () => {
  let mesh: TestMesh;

  before(async () => {
    await promisify(execFile)(process.execPath, [join(ROOT, "scripts", "build-dashboard.mjs")], {
      timeout: 60_000,
    });
    mesh = await startTestMesh(undefined, {
      manifests: [join(DEPLOY, "session.yaml"), join(DEPLOY, "session-gateway.yaml")],
      replicas: 2,
      // Pods start slowly on a busy machine (each compiles the service under tsx).
      readyTimeoutMs: 90_000,
    });
  });
  after(() => mesh?.stop());

  it("serves the page with its content types and a strict Content-Security-Policy", async () => {
    const page = await fetch(`${mesh.adminUrl}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, "no asset comes from elsewhere");
    for (const [path, type] of [
      ["/dashboard.js", "text/javascript; charset=utf-8"],
      ["/dashboard.css", "text/css; charset=utf-8"],
      ["/favicon.svg", "image/svg+xml"],
    ]) {
      const r = await fetch(`${mesh.adminUrl}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get("content-type"), type, path);
      assert.doesNotMatch(
        await r.text(),
        /https?:\/\/(?!www\.w3\.org)/,
        `${path} loads nothing from elsewhere`,
      );
    }
    assert.equal((await fetch(`${mesh.adminUrl}/../package.json`)).status, 404);
  });

  it("keeps the admin API's origin rules for the new endpoints", async () => {
    const foreign = await rawStatus(
      `${mesh.adminUrl}/api/v1/traffic`,
      "POST",
      { "content-type": "application/json", origin: "http://evil.example" },
      JSON.stringify({ running: true }),
    );
    assert.equal(foreign, 403);
    const form = await fetch(`${mesh.adminUrl}/api/v1/store`, {
      method: "POST",
      headers: { "content-type": "text/plain", ...mesh.auth },
      body: JSON.stringify({ store: "redis" }),
    });
    assert.equal(form.status, 415);
    assert.equal(await rawStatus(`${mesh.adminUrl}/api/v1/events`, "GET", { host: "evil.example" }), 403);
    assert.equal(await rawStatus(`${mesh.adminUrl}/`, "GET", { host: "rebound.example:15000" }), 403);
    assert.equal((await post(mesh, "/api/v1/store", { store: "disk" })).status, 400);
    assert.equal((await post(mesh, "/api/v1/traffic", { clients: 99 })).status, 400);
    assert.equal(mesh.mesh.store, "memory");
    assert.equal(
      ((await (await fetch(`${mesh.adminUrl}/api/v1/traffic`, { headers: mesh.auth })).json()) as TrafficView)
        .running,
      false,
    );
  });

  it("streams hello, manifests and ticks with the pods and the policy", async () => {
    const events = await readEvents(mesh, `${mesh.adminUrl}/api/v1/events`, (e) => e.length >= 4);
    assert.deepEqual(
      events.slice(0, 3).map((e) => e.event),
      ["hello", "manifests", "tick"],
    );
    const hello = events[0]?.data as HelloEvent;
    assert.deepEqual(
      hello.variants.map((v) => v.id),
      ["cookie", "header-hash", "maglev"],
    );
    assert.equal(hello.gateway, mesh.gatewayUrl);
    const manifests = events[1]?.data as ManifestsEvent;
    assert.equal(manifests.variant, undefined);
    assert.deepEqual(
      parseAllDocuments(manifests.yaml).map((d) => (d.toJS() as { kind: string }).kind),
      ["Deployment", "Service", "Gateway", "VirtualService"],
    );
    const tick = events[2]?.data as TickEvent;
    assert.equal(tick.pods.length, 2);
    assert.ok(tick.pods.every((p) => p.ready && p.restarts === 0));
    assert.deepEqual(tick.policy, { service: "session-svc", kind: "none", lbPolicy: "least-request" });
    assert.equal(tick.deployment?.replicas, 2);
  });

  it("runs simulated clients through the gateway and reports the policy and variant in force", async () => {
    const variants = await loadVariants();
    const maglev = variants.find((v) => v.id === "maglev");
    assert.ok(maglev);
    await mesh.client.apply(maglev.file, maglev.text);
    try {
      const started = (await (
        await post(mesh, "/api/v1/traffic", { running: true, clients: 3 })
      ).json()) as TrafficView;
      assert.equal(started.running, true);
      assert.equal(started.clients.length, 3);
      const events = await readEvents(mesh, `${mesh.adminUrl}/api/v1/events`, (e) => {
        const last = e.filter((x) => x.event === "tick").at(-1)?.data as TickEvent | undefined;
        return last?.traffic.stickyShare === 1 && last.traffic.clients.every((c) => c.ok >= 6);
      });
      const ticks = events.filter((e) => e.event === "tick").map((e) => e.data as TickEvent);
      const last = ticks.at(-1) as TickEvent;
      assert.equal(last.traffic.stickyShare, 1, "every client pinned under the Maglev rule");
      assert.equal(last.policy.kind, "maglev");
      assert.equal(last.policy.key, "cookie session-route (ttl 1800s)");
      assert.equal(last.policy.destinationRule, "default/session");
      assert.ok(ticks.flatMap((t) => t.requests).some((r) => r.ok && r.pod));
      const manifests = events.find((e) => e.event === "manifests")?.data as ManifestsEvent | undefined;
      assert.equal(manifests?.variant, "maglev");
      for (const c of last.traffic.clients) {
        assert.ok((c.count ?? 0) >= 6, "the session counter grows on the client's pod");
      }
      const stopped = (await (await post(mesh, "/api/v1/traffic", { running: false })).json()) as TrafficView;
      assert.equal(stopped.running, false);
    } finally {
      await post(mesh, "/api/v1/traffic", { running: false });
      // The next test needs requests spread over the pods again.
      await mesh.client.delete(maglev.file, maglev.text);
    }
  });

  it("switches every replica to Redis and back, live", {
    skip: hasRedis ? false : "no redis-server",
  }, async () => {
    const result = await mesh.client.setStore("redis");
    assert.equal(result.previous, "memory");
    assert.equal(result.store, "redis");
    assert.deepEqual(result.restarted, ["default/session-deployment"]);
    assert.match(result.redisUrl ?? "", /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(result.redisUrl, "redis://127.0.0.1:6379");
    await mesh.mesh.waitFor(
      () => mesh.mesh.settled() && mesh.mesh.replicaSets.pods().every((p) => !p.terminating),
      60_000,
    );
    // Without a rule requests spread over both pods; with Redis the counter still goes up by one.
    const jar = new CookieJar();
    const pods = new Set<string>();
    for (let i = 1; i <= 12; i++) {
      const r = await mesh.get("/user", { jar });
      assert.equal(r.count, i);
      if (r.hostname) pods.add(r.hostname);
    }
    assert.equal(pods.size, 2);
    const info = await mesh.client.info();
    assert.equal(info.store, "redis");

    const back = await mesh.client.setStore("memory");
    assert.equal(back.store, "memory");
    assert.equal(back.redisUrl, undefined);
    assert.equal(mesh.mesh.redisUrl, undefined);
    await mesh.mesh.waitFor(
      () => mesh.mesh.settled() && mesh.mesh.replicaSets.pods().every((p) => !p.terminating),
      60_000,
    );
    const again = await mesh.client.setStore("memory");
    assert.deepEqual(again.restarted, []);
  });
});

describe("affinity variants", () => {
  it("applies JSON patches as RFC 6902 does for add, replace and remove", () => {
    const doc = { spec: { a: { b: 1 }, "x/y": 2 } };
    assert.deepEqual(
      applyJsonPatch(
        doc,
        [
          { op: "replace", path: "/spec/a", value: { c: 3 } },
          { op: "add", path: "/spec/a/d", value: [1] },
          { op: "remove", path: "/spec/x~1y" },
        ],
        "test",
      ),
      { spec: { a: { c: 3, d: [1] } } },
    );
    assert.deepEqual(doc, { spec: { a: { b: 1 }, "x/y": 2 } }, "the input is not changed");
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "replace", path: "/spec/zz", value: 1 }], "test"),
      /no such/,
    );
    assert.throws(() => applyJsonPatch(doc, [{ op: "move", path: "/spec/a" }], "test"), /unsupported/);
  });

  it("renders each variant's DestinationRule as kubectl kustomize does", {
    skip: hasKubectl ? false : "no kubectl",
  }, async () => {
    const variants = await loadVariants();
    for (const v of variants.filter((x) => x.id !== "cookie")) {
      const rendered = execFileSync(
        "kubectl",
        ["kustomize", "--load-restrictor", "LoadRestrictionsNone", join(DEPLOY, "tests", v.id)],
        { encoding: "utf8", timeout: 60_000 },
      );
      const rule = parseAllDocuments(rendered)
        .map((d) => d.toJS() as { kind: string })
        .find((d) => d.kind === "DestinationRule");
      assert.deepEqual(parse(v.text), rule, v.id);
    }
  });
});
