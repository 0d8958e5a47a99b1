import assert from "node:assert/strict";
import { createConnection } from "node:net";
import { hostname } from "node:os";
import { test } from "node:test";
import { CookieJar, startTestService } from "../helpers/service.js";

async function get(url: string, jar?: CookieJar, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers: { ...jar?.header(), ...headers } });
  jar?.store(response);
  return { response, body: await response.text() };
}

test("GET /user with a cookie jar counts 1st, 2nd, 3rd … in the walkthrough's two-line body", async (t) => {
  const service = await startTestService(t);
  const jar = new CookieJar();
  const bodies: string[] = [];
  for (let i = 0; i < 4; i++) bodies.push((await get(`${service.url}/user`, jar)).body);
  assert.deepEqual(bodies, [
    "Hostname: pod-under-test<br>\n1st time access.\n",
    "Hostname: pod-under-test<br>\n2nd time access.\n",
    "Hostname: pod-under-test<br>\n3rd time access.\n",
    "Hostname: pod-under-test<br>\n4th time access.\n",
  ]);
});

test("GET /user answers text/html, never cacheable, with a hardened session cookie only on a new session", async (t) => {
  const service = await startTestService(t);
  const jar = new CookieJar();
  const first = await get(`${service.url}/user`, jar);
  assert.equal(first.response.status, 200);
  assert.equal(first.response.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(first.response.headers.get("cache-control"), "no-store");
  const [cookie] = first.response.headers.getSetCookie();
  assert.match(cookie ?? "", /^sid=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax$/);
  const second = await get(`${service.url}/user`, jar);
  assert.deepEqual(second.response.headers.getSetCookie(), []);
  assert.equal(second.response.headers.get("cache-control"), "no-store");
});

test("COOKIE_SECURE=true and COOKIE_NAME change the session cookie", async (t) => {
  const service = await startTestService(t, { COOKIE_SECURE: "true", COOKIE_NAME: "app-session" });
  const { response } = await get(`${service.url}/user`);
  assert.match(
    response.headers.getSetCookie()[0] ?? "",
    /^app-session=\S+; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
  );
});

test("Accept: application/json answers {hostname, count}", async (t) => {
  const service = await startTestService(t);
  const jar = new CookieJar();
  await get(`${service.url}/user`, jar);
  const { response, body } = await get(`${service.url}/user`, jar, { accept: "application/json" });
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  assert.deepEqual(JSON.parse(body), { hostname: "pod-under-test", count: 2 });
});

test("without POD_NAME the OS hostname is shown", async (t) => {
  const service = await startTestService(t, { POD_NAME: "" });
  const { body } = await get(`${service.url}/user`);
  assert.equal(body, `Hostname: ${hostname()}<br>\n1st time access.\n`);
});

test("HEAD /user reports what GET would say without counting or creating a session", async (t) => {
  const service = await startTestService(t);
  const jar = new CookieJar();
  await get(`${service.url}/user`, jar);
  const head = await fetch(`${service.url}/user`, { method: "HEAD", headers: jar.header() });
  assert.equal(head.status, 200);
  assert.equal(
    head.headers.get("content-length"),
    String(Buffer.byteLength("Hostname: pod-under-test<br>\n2nd time access.\n")),
  );
  assert.deepEqual(head.headers.getSetCookie(), []);
  assert.equal(
    (await get(`${service.url}/user`, jar)).body,
    "Hostname: pod-under-test<br>\n2nd time access.\n",
  );
});

test("a wrong method on /user is 405 with Allow; an unknown path is 404", async (t) => {
  const service = await startTestService(t);
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    const response = await fetch(`${service.url}/user`, { method });
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "GET, HEAD");
  }
  for (const path of ["/", "/users", "/user/1", "/USER", "/%00"]) {
    assert.equal((await fetch(`${service.url}${path}`)).status, 404, path);
  }
  assert.equal(
    (await fetch(`${service.url}/user?x=1`)).status,
    200,
    "a query string does not change the route",
  );
});

test("oversized request headers are refused with 431 and the process keeps serving", async (t) => {
  const service = await startTestService(t);
  const status = await new Promise<string>((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port: service.port });
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk;
    });
    socket.on("end", () => resolve(data.split("\r\n")[0] ?? ""));
    socket.on("error", reject);
    socket.write(`GET /user HTTP/1.1\r\nHost: x\r\nCookie: sid=${"a".repeat(40_000)}\r\n\r\n`);
  });
  assert.equal(status, "HTTP/1.1 431 Request Header Fields Too Large");
  assert.equal((await get(`${service.url}/user`)).response.status, 200);
});

test("a missing, malformed, oversized, unsigned, tampered or foreign-signed cookie starts a new session", async (t) => {
  const service = await startTestService(t, { SESSION_SECRET: "0123456789abcdef-one" });
  const other = await startTestService(t, { SESSION_SECRET: "0123456789abcdef-two" });
  const jar = new CookieJar();
  await get(`${service.url}/user`, jar);
  await get(`${service.url}/user`, jar);
  const valid = (jar.value ?? "").slice("sid=".length);
  const [id, signature] = valid.split(".") as [string, string];
  const foreignJar = new CookieJar();
  await get(`${other.url}/user`, foreignJar);
  const tamperedSig = `${id}.${signature.slice(0, -1)}${signature.endsWith("A") ? "B" : "A"}`;
  const tamperedId = `${id.slice(0, -1)}${id.endsWith("A") ? "B" : "A"}.${signature}`;
  const cookies = [
    "",
    "sid=",
    "sid",
    "=;=;;",
    `sid=${id}`,
    `sid=${tamperedSig}`,
    `sid=${tamperedId}`,
    `sid=${valid}x`,
    `sid=${"A".repeat(4000)}`,
    `sid=attacker-chosen-session-id.${signature}`,
    foreignJar.value ?? "",
    "sid=\u00ff\u00fe; x",
  ];
  for (const cookie of cookies) {
    const { response, body } = await get(`${service.url}/user`, undefined, { cookie });
    assert.equal(response.status, 200, cookie);
    assert.equal(body, "Hostname: pod-under-test<br>\n1st time access.\n", cookie);
    const minted = response.headers.getSetCookie()[0] ?? "";
    assert.ok(minted.startsWith("sid="), `a new id is minted for ${JSON.stringify(cookie)}`);
    assert.ok(!minted.includes(id), "the new id is not the old one");
  }
  // The genuine session was not disturbed by any of that.
  assert.equal(
    (await get(`${service.url}/user`, jar)).body,
    "Hostname: pod-under-test<br>\n3rd time access.\n",
  );
});

test("other cookies around the session cookie, in any order and quoting, do not disturb it", async (t) => {
  const service = await startTestService(t);
  const jar = new CookieJar();
  await get(`${service.url}/user`, jar);
  const value = jar.value ?? "";
  const bodies = [];
  for (const cookie of [
    `a=1; ${value}; b=2`,
    `session-route="071ab12ec2c21647"; ${value}`,
    `${value.replace("=", '="')}"`,
  ]) {
    bodies.push((await get(`${service.url}/user`, undefined, { cookie })).body.split("\n")[1]);
  }
  assert.deepEqual(bodies, ["2nd time access.", "3rd time access.", "4th time access."]);
});

test("200 concurrent requests on one session cookie advance its counter by exactly 200", async (t) => {
  const service = await startTestService(t);
  const jar = new CookieJar();
  await get(`${service.url}/user`, jar);
  const results = await Promise.all(
    Array.from({ length: 200 }, () =>
      fetch(`${service.url}/user`, { headers: { ...jar.header(), accept: "application/json" } }).then(
        (r) => r.json() as Promise<{ count: number }>,
      ),
    ),
  );
  const counts = results.map((r) => r.count).sort((a, b) => a - b);
  assert.deepEqual(
    counts,
    Array.from({ length: 200 }, (_, i) => i + 2),
  );
  assert.equal((await get(`${service.url}/user`, jar)).body.split("\n")[1], "202nd time access.");
});

test("/healthz and /readyz answer 200 while serving; /metrics exposes the service's metrics", async (t) => {
  const service = await startTestService(t);
  await get(`${service.url}/user`);
  await fetch(`${service.url}/nowhere`);
  assert.equal((await get(`${service.url}/healthz`)).response.status, 200);
  assert.equal((await get(`${service.url}/readyz`)).response.status, 200);
  const { response, body } = await get(`${service.url}/metrics`);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(body, /session_http_requests_total\{route="\/user",status="200"\} 1/);
  assert.match(body, /session_http_requests_total\{route="other",status="404"\} 1/);
  assert.match(body, /session_http_request_duration_seconds_bucket\{le="0.005",route="\/user"\}/);
  assert.match(body, /session_store_sessions 1/);
  assert.match(body, /session_sessions_created_total 1/);
  assert.match(body, /session_store_errors_total 0/);
});

test("once draining, /readyz is 503 while /user and /healthz keep serving", async (t) => {
  const service = await startTestService(t);
  service.app.startDraining();
  assert.equal((await get(`${service.url}/readyz`)).response.status, 503);
  assert.equal((await get(`${service.url}/healthz`)).response.status, 200);
  assert.equal((await get(`${service.url}/user`)).response.status, 200);
});
