import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { MAX_SUBSCRIBERS } from "../../src/dashboard/dashboard.js";
import { readAdminToken } from "../../src/mesh/admin-token.js";
import { ControlClient } from "../../src/mesh/control-client.js";
import { startTestMesh, type TestMesh } from "../helpers/mesh.js";
import { record } from "../helpers/reliability.js";

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: token-probe
spec:
  selector:
    app: token-probe
  ports:
    - name: http
      port: 80
`;

/** The Deployment a local attacker would POST: its env would run code in every pod process. */
const LOADER_DEPLOYMENT = (name: string, value: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: loader-probe
spec:
  replicas: 1
  selector:
    matchLabels:
      app: loader-probe
  template:
    metadata:
      labels:
        app: loader-probe
    spec:
      containers:
        - name: app
          image: session-affinity:0.1.0
          env:
            - name: ${name}
              value: ${JSON.stringify(value)}
`;

describe("the control API's token and the environment pods may be given", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, {});
  });
  after(() => tm?.stop());

  it("writes a random token to a file only this user can read, and removes it on stop", async () => {
    const file = tm.mesh.admin.tokenFile;
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(await readAdminToken(tm.mesh.admin.port), tm.mesh.admin.token);
    assert.match(tm.mesh.admin.token, /^[A-Za-z0-9_-]{43}$/, "256 random bits");
    const other = await startTestMesh(undefined, {});
    assert.notEqual(other.mesh.admin.token, tm.mesh.admin.token);
    const otherFile = other.mesh.admin.tokenFile;
    await other.stop();
    await assert.rejects(stat(otherFile), /ENOENT/);
  });

  it("refuses every control request without the token (401), or with another one; nothing is applied", async () => {
    const base = tm.adminUrl;
    const apply = JSON.stringify({ file: "probe.yaml", text: SERVICE });
    const json = { "content-type": "application/json" };
    const attempts: { what: string; method: string; path: string; headers: Record<string, string> }[] = [
      { what: "apply without a token", method: "POST", path: "/api/v1/apply", headers: json },
      {
        what: "apply with a wrong bearer token",
        method: "POST",
        path: "/api/v1/apply",
        headers: { ...json, authorization: `Bearer ${"A".repeat(43)}` },
      },
      {
        what: "apply with a wrong cookie",
        method: "POST",
        path: "/api/v1/apply",
        headers: { ...json, cookie: "session-affinity-admin=guess" },
      },
      { what: "state without a token", method: "GET", path: "/api/v1/state", headers: {} },
      { what: "event stream without a token", method: "GET", path: "/api/v1/events", headers: {} },
    ];
    const revision = tm.mesh.controlPlane.revision;
    const outcomes: string[] = [];
    for (const a of attempts) {
      const r = await fetch(`${base}${a.path}`, {
        method: a.method,
        headers: a.headers,
        ...(a.method === "POST" ? { body: apply } : {}),
      });
      const body = (await r.json()) as { error: { code: string; message: string } };
      outcomes.push(`${a.what}: ${r.status}`);
      assert.equal(r.status, 401, a.what);
      assert.equal(body.error.code, "ERR_UNAUTHORIZED");
      assert.ok(body.error.message.includes(tm.mesh.admin.tokenFile), "the error says where the token is");
      assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="session-affinity"');
    }
    assert.equal(tm.mesh.controlPlane.revision, revision, "nothing was applied");
    // Envoy's own read-only endpoints stay open on loopback, as Envoy's admin is.
    for (const path of ["/ready", "/clusters", "/config_dump", "/stats/prometheus"]) {
      assert.equal((await fetch(`${base}${path}`)).status, 200, path);
    }
    // The CLI's client finds the token by itself (from the file for this port) and goes through.
    await new ControlClient(base).apply("probe.yaml", SERVICE);
    assert.equal(tm.mesh.controlPlane.list("Service").length, 1);
    await tm.client.delete("probe.yaml", SERVICE);
    const wrong = new ControlClient(base, "not-the-token");
    await assert.rejects(wrong.info(), (err: Error & { code?: string }) => err.code === "ERR_UNAUTHORIZED");
    record({
      group: "hostile",
      scenario: "control API requests without the mesh's token",
      load: "one request each",
      faults: "none",
      badInputs: attempts.length,
      requests: attempts.length + 6,
      failed: 0,
      sessionsLost: 0,
      notes: `all 401 ERR_UNAUTHORIZED, nothing applied; token file mode 0600: ${outcomes.join("; ")}`,
    });
  });

  it("the dashboard trades /?token= for an HttpOnly SameSite=Strict cookie and drops it from the address", async () => {
    const opened = await fetch(tm.mesh.admin.dashboardUrl, { redirect: "manual" });
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.get("location"), "/");
    const cookie = opened.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^session-affinity-admin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const state = await fetch(`${tm.adminUrl}/api/v1`, {
      headers: { cookie: cookie.split(";")[0] as string },
    });
    assert.equal(state.status, 200);
    assert.equal((await fetch(`${tm.adminUrl}/?token=guess`, { redirect: "manual" })).status, 401);
  });

  it("refuses a Deployment whose env is not the service's own (NODE_OPTIONS, LD_PRELOAD, …) with a one-line error", async () => {
    const marker = "globalThis.__pwned = true";
    const outcomes: string[] = [];
    for (const [name, value] of [
      ["NODE_OPTIONS", `--import=data:text/javascript,${marker}`],
      ["LD_PRELOAD", "/tmp/evil.so"],
      ["NODE_PATH", "/tmp"],
      ["BASH_ENV", "/tmp/evil.sh"],
    ] as const) {
      await assert.rejects(tm.client.apply("loader.yaml", LOADER_DEPLOYMENT(name, value)), (err: Error) => {
        assert.equal(err.message.split("\n").length, 1);
        assert.match(
          err.message,
          new RegExp(`env\\[0\\]\\.name: ${name} is not a variable the session service reads`),
        );
        outcomes.push(name);
        return true;
      });
    }
    assert.equal(tm.mesh.controlPlane.list("Deployment").length, 0);
    assert.equal(tm.mesh.replicaSets.pods().length, 0, "no process was started");
    record({
      group: "hostile",
      scenario: "Deployments carrying loader variables in env",
      load: "one apply each",
      faults: "none",
      badInputs: outcomes.length,
      requests: outcomes.length,
      failed: 0,
      sessionsLost: 0,
      notes: `each refused at apply with one line naming the field, no process started: ${outcomes.join(", ")}`,
    });
  });

  it(`bounds the admin server: at most ${MAX_SUBSCRIBERS} event streams at once, a head still unfinished after 10 s is cut off`, async () => {
    const streams: AbortController[] = [];
    try {
      for (let i = 0; i < MAX_SUBSCRIBERS; i++) {
        const controller = new AbortController();
        streams.push(controller);
        const r = await fetch(`${tm.adminUrl}/api/v1/events`, {
          headers: tm.auth,
          signal: controller.signal,
        });
        assert.equal(r.status, 200, `stream ${i + 1}`);
      }
      const refused = await fetch(`${tm.adminUrl}/api/v1/events`, { headers: tm.auth });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get("retry-after"), "5");
    } finally {
      for (const c of streams) c.abort();
    }
    // A head that never ends is closed by the headers timeout (10 s; checked every second).
    const started = performance.now();
    const socket = connect({ host: "127.0.0.1", port: tm.mesh.admin.port });
    socket.on("error", () => {});
    socket.resume();
    socket.write(`GET /ready HTTP/1.1\r\nHost: 127.0.0.1:${tm.mesh.admin.port}\r\nX-Slow: 1\r\n`);
    const closedAfter = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(Number.POSITIVE_INFINITY), 15_000);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve(performance.now() - started);
      });
    });
    socket.destroy();
    assert.ok(closedAfter >= 9_000 && closedAfter <= 12_500, `closed after ${closedAfter.toFixed(0)} ms`);
  });
});
