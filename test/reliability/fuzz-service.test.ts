import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { rawRequest } from "../helpers/raw-http.js";
import { record } from "../helpers/reliability.js";
import { startTestService } from "../helpers/service.js";

// Every answer a hostile request may get: never a 500, never silence.
// 417: an Expect value other than 100-continue, which RFC 9110 §10.1.1 lets a server refuse.
const ALLOWED = new Set([200, 400, 404, 405, 414, 417, 431, 501, 505]);
const RUNS = 250;

const headerText = fc.string({ unit: "binary", maxLength: 300 });
const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);

test("fuzzed Cookie headers never crash, never 500, and answer fast", async (t) => {
  const service = await startTestService(t);
  await fc.assert(
    fc.asyncProperty(headerText, async (cookie) => {
      const payload = Buffer.concat([
        Buffer.from("GET /user HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: "),
        Buffer.from(cookie, "latin1"),
        Buffer.from("\r\n\r\n"),
      ]);
      const r = await rawRequest(service.port, payload);
      assert.ok(ALLOWED.has(r.status), `status ${r.status} for cookie ${JSON.stringify(cookie)}`);
      assert.ok(r.ms < 2000, `${r.ms} ms`);
      if (r.status === 200)
        assert.match(r.text, /1st time access\./, "an unknown cookie never continues a session");
    }),
    { numRuns: RUNS },
  );
  assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  record({
    group: "hostile",
    scenario: "fuzzed Cookie headers against one replica (fast-check)",
    load: "sequential raw HTTP/1.1 requests",
    faults: "none",
    badInputs: RUNS,
    requests: RUNS + 1,
    failed: 0,
    sessionsLost: 0,
    notes: "no 500, each under 2 s, no unknown cookie continued a session",
  });
});

test("fuzzed methods, paths, queries and headers never crash, never 500, and answer fast", async (t) => {
  const service = await startTestService(t);
  const path = fc.oneof(
    fc.constantFrom("/user", "/healthz", "/readyz", "/metrics", "/"),
    fc.string({ unit: "binary", maxLength: 200 }).map((s) => `/${s}`),
    fc.webPath(),
  );
  const query = fc.oneof(
    fc.constant(""),
    fc.string({ unit: "binary", maxLength: 100 }).map((s) => `?${s}`),
  );
  const headers = fc.array(fc.tuple(token, headerText), { maxLength: 6 });
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.constantFrom("GET", "HEAD", "POST", "OPTIONS"), token),
      path,
      query,
      headers,
      async (method, p, q, hs) => {
        const lines = hs.map(([name, value]) => `${name}: ${value}`).join("\r\n");
        const payload = Buffer.from(
          `${method} ${p}${q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${lines}${lines ? "\r\n" : ""}\r\n`,
          "latin1",
        );
        const r = await rawRequest(service.port, payload);
        assert.ok(ALLOWED.has(r.status), `status ${r.status} for ${method} ${JSON.stringify(p + q)}`);
        assert.ok(r.ms < 2000, `${r.ms} ms`);
      },
    ),
    { numRuns: RUNS },
  );
  const after = await fetch(`${service.url}/user`);
  assert.equal(after.status, 200);
  record({
    group: "hostile",
    scenario: "fuzzed method, path, query and headers against one replica (fast-check)",
    load: "sequential raw HTTP/1.1 requests",
    faults: "none",
    badInputs: RUNS,
    requests: RUNS + 1,
    failed: 0,
    sessionsLost: 0,
    notes: "no 500, each under 2 s",
  });
});
