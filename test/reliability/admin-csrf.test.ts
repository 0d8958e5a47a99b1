import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, describe, it } from "node:test";
import { startTestMesh, type TestMesh } from "../helpers/mesh.js";
import { record } from "../helpers/reliability.js";

// A Service: applying it changes the control plane without starting a process.
const OBJECT = `apiVersion: v1
kind: Service
metadata:
  name: csrf-probe
spec:
  selector:
    app: csrf-probe
  ports:
    - name: http
      port: 80
`;

/** Whether a TCP connection to ip:port is accepted. */
function accepts(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("the admin/control API against a hostile web page", () => {
  let tm: TestMesh;
  let port: number;
  before(async () => {
    tm = await startTestMesh(undefined, {});
    port = tm.mesh.admin.port;
  });
  after(() => tm?.stop());

  it("listens on loopback only", async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === "IPv4")
      .map((a) => a?.address as string);
    assert.equal(await accepts("127.0.0.1", port), true);
    for (const ip of external) assert.equal(await accepts(ip, port), false, `reachable on ${ip}:${port}`);
    for (const ip of external)
      assert.equal(await accepts(ip, tm.mesh.gateway.port), false, `gateway reachable on ${ip}`);
    record({
      group: "hostile",
      scenario: "admin API and gateway bound to loopback",
      load: "TCP connects",
      faults: "none",
      badInputs: external.length * 2,
      requests: external.length * 2 + 1,
      failed: 0,
      sessionsLost: 0,
      notes: `refused on every non-loopback address of this machine (${external.join(", ") || "none found"})`,
    });
  });

  it("refuses cross-origin, form-encoded and rebound-Host requests that change state; nothing applied", async () => {
    const base = `http://127.0.0.1:${port}`;
    const apply = JSON.stringify({ file: "evil.yaml", text: OBJECT });
    const json = { "content-type": "application/json" };
    // What a page on another origin can make a browser send without a CORS preflight, and more.
    const attempts: { what: string; path: string; headers: Record<string, string>; body: string }[] = [
      {
        what: "JSON POST from a foreign Origin",
        path: "/api/v1/apply",
        headers: { ...json, origin: "http://evil.example" },
        body: apply,
      },
      {
        what: "text/plain form POST",
        path: "/api/v1/apply",
        headers: { "content-type": "text/plain" },
        body: apply,
      },
      {
        what: "text/plain form POST from a foreign Origin",
        path: "/api/v1/apply",
        headers: { "content-type": "text/plain;charset=UTF-8", origin: "http://evil.example" },
        body: apply,
      },
      {
        what: "urlencoded form POST",
        path: "/api/v1/apply",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `{"file":"evil.yaml","text":${JSON.stringify(OBJECT)},"x":"=1"}`,
      },
      {
        what: "multipart form POST",
        path: "/api/v1/apply",
        headers: { "content-type": "multipart/form-data; boundary=x" },
        body: "--x--",
      },
      {
        what: "JSON POST with Origin null (sandboxed frame)",
        path: "/api/v1/apply",
        headers: { ...json, origin: "null" },
        body: apply,
      },
      {
        what: "JSON POST from another local port",
        path: "/api/v1/apply",
        headers: { ...json, origin: "http://127.0.0.1:1" },
        body: apply,
      },
      {
        what: "DNS rebinding: Host evil.example",
        path: "/api/v1/apply",
        headers: { ...json, host: `evil.example:${port}` },
        body: apply,
      },
      {
        what: "DNS rebinding with a same-host Origin",
        path: "/api/v1/apply",
        headers: { ...json, host: `evil.example:${port}`, origin: `http://evil.example:${port}` },
        body: apply,
      },
      {
        what: "scale from a foreign Origin",
        path: "/api/v1/scale",
        headers: { ...json, origin: "http://evil.example" },
        body: '{"name":"x","replicas":0}',
      },
      {
        what: "scale as text/plain",
        path: "/api/v1/scale",
        headers: { "content-type": "text/plain" },
        body: '{"name":"x","replicas":0}',
      },
      {
        what: "delete from a foreign Origin",
        path: "/api/v1/delete",
        headers: { ...json, origin: "https://evil.example" },
        body: apply,
      },
      {
        what: "rollout restart as text/plain",
        path: "/api/v1/rollout-restart",
        headers: { "content-type": "text/plain" },
        body: '{"name":"x"}',
      },
      {
        what: "kill-pod from a foreign Origin",
        path: "/api/v1/kill-pod",
        headers: { ...json, origin: "http://evil.example" },
        body: '{"name":"x"}',
      },
    ];
    const revision = tm.mesh.controlPlane.revision;
    const outcomes: string[] = [];
    // Each carries the token cookie, as a page on another local port would (127.0.0.1 is one site for
    // SameSite): these refusals come from the origin and content-type rules, not from a missing token.
    const cookie = `session-affinity-admin=${tm.mesh.admin.token}`;
    for (const a of attempts) {
      const r = await rawPost(port, a.path, { cookie, ...a.headers }, a.body);
      outcomes.push(`${a.what}: ${r.status}`);
      assert.ok(r.status === 403 || r.status === 415, `${a.what}: ${r.status} ${r.body}`);
      assert.equal(r.allowOrigin, undefined, `${a.what}: no CORS grant`);
    }
    // A preflight never gets a grant either, so a browser never sends the JSON POST cross-origin.
    const preflight = await fetch(`${base}/api/v1/apply`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    assert.notEqual(preflight.status, 200);
    assert.equal(tm.mesh.controlPlane.revision, revision, "nothing was applied");
    assert.equal(tm.mesh.controlPlane.list("Service").length, 0);
    // The same apply from the CLI's own client goes through: the refusals above are about the request's origin.
    const ok = await rawPost(port, "/api/v1/apply", { ...json, ...tm.auth }, apply);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(tm.mesh.controlPlane.list("Service").length, 1);
    await tm.client.delete("evil.yaml", OBJECT);
    record({
      group: "hostile",
      scenario: "cross-origin / form / DNS-rebinding requests to the admin API",
      load: "one request each",
      faults: "none",
      badInputs: attempts.length + 1,
      requests: attempts.length + 2,
      failed: 0,
      sessionsLost: 0,
      notes: `all refused (403 or 415), no CORS grant, control-plane revision unchanged: ${outcomes.join("; ")}`,
    });
  });
});

/** A POST with exactly these headers (fetch would not let a test set Host). */
async function rawPost(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string; allowOrigin: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: { host: `127.0.0.1:${port}`, ...headers },
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => {
          const allow = res.headers["access-control-allow-origin"];
          resolve({ status: res.statusCode ?? 0, body: text, allowOrigin: allow });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
