import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { DEPLOY, gatewayGet, startTestMesh, type TestMesh } from "../helpers/mesh.js";
import { rawExchange, rawRequest } from "../helpers/raw-http.js";
import { record, sleep } from "../helpers/reliability.js";

// What a hostile request may get from the gateway or through it: never a 5xx, never silence.
// 417: an Expect value other than 100-continue, which RFC 9110 §10.1.1 lets a server refuse.
const ALLOWED = new Set([200, 400, 403, 404, 405, 408, 414, 417, 431, 501, 505]);
const RUNS = 200;

const headerText = fc.string({ unit: "binary", maxLength: 300 });
const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

describe("hostile clients against the ingress gateway", () => {
  let tm: TestMesh;
  let port: number;
  before(async () => {
    tm = await startTestMesh(undefined, { manifests: [DEPLOY], replicas: 2, readyTimeoutMs: 60_000 });
    port = tm.mesh.gateway.port;
  });
  after(() => tm?.stop());

  /** Nothing the gateway answered itself was a 5xx (its own 503/504 would mean it lost its upstreams). */
  const gateway5xx = () => tm.mesh.gateway.stats.byClass["5xx"];

  it("fuzzed Cookie headers: no crash, no 5xx, bounded time, never a continued session", async () => {
    const before5xx = gateway5xx();
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          headerText,
          // Near misses of the real cookies: the app's signed id and the gateway's route cookie.
          fc
            .tuple(fc.constantFrom("sid", "session-route", "SID", "sid ", " sid"), headerText)
            .map(([name, value]) => `${name}=${value}`),
        ),
        async (cookie) => {
          const payload = Buffer.concat([
            Buffer.from("GET /user HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: "),
            Buffer.from(cookie, "latin1"),
            Buffer.from("\r\n\r\n"),
          ]);
          const r = await rawRequest(port, payload);
          slowest = Math.max(slowest, r.ms);
          assert.ok(ALLOWED.has(r.status), `status ${r.status} for cookie ${JSON.stringify(cookie)}`);
          assert.ok(r.ms < 2000, `${r.ms} ms`);
          if (r.status === 200) assert.match(r.text, /1st time access\./);
        },
      ),
      { numRuns: RUNS },
    );
    assert.equal(gateway5xx(), before5xx);
    record({
      group: "hostile",
      scenario: "fuzzed Cookie headers through the gateway (fast-check)",
      load: "sequential raw HTTP/1.1 requests",
      faults: "none",
      badInputs: RUNS,
      requests: RUNS,
      failed: 0,
      sessionsLost: 0,
      notes: `no 5xx, slowest ${slowest} ms, no forged cookie continued a session`,
    });
  });

  it("fuzzed methods, paths, queries and headers: no crash, no 5xx, bounded time", async () => {
    const before5xx = gateway5xx();
    let slowest = 0;
    const path = fc.oneof(
      fc.constantFrom("/user", "/healthz", "/readyz", "/metrics", "/", "*", "//user", "/user/../user"),
      fc.string({ unit: "binary", maxLength: 200 }).map((s) => `/${s}`),
      fc.webPath(),
    );
    const query = fc.oneof(
      fc.constant(""),
      fc.string({ unit: "binary", maxLength: 100 }).map((s) => `?${s}`),
      fc.webQueryParameters().map((q) => `?${q}`),
    );
    // Headers the gateway itself reads, rewrites or drops, plus arbitrary ones.
    const name = fc.oneof(
      token,
      fc.constantFrom(
        "host",
        "cookie",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-request-id",
        "expect",
        "accept",
        "proxy-connection",
      ),
    );
    const headers = fc.array(fc.tuple(name, headerText), { maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom("GET", "HEAD", "POST", "OPTIONS", "DELETE", "TRACE", "CONNECT"), token),
        path,
        query,
        headers,
        async (method, p, q, hs) => {
          const lines = hs.map(([n, value]) => `${n}: ${value}`).join("\r\n");
          const payload = Buffer.from(
            `${method} ${p}${q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${lines}${lines ? "\r\n" : ""}\r\n`,
            "latin1",
          );
          const r = await rawRequest(port, payload);
          slowest = Math.max(slowest, r.ms);
          assert.ok(
            ALLOWED.has(r.status),
            `status ${r.status} for ${method} ${JSON.stringify(p + q)} ${lines}`,
          );
          assert.ok(r.ms < 2000, `${r.ms} ms`);
        },
      ),
      { numRuns: RUNS },
    );
    assert.equal(gateway5xx(), before5xx);
    assert.equal((await gatewayGet(tm.gatewayUrl, "/user")).status, 200);
    record({
      group: "hostile",
      scenario: "fuzzed method, path, query and headers through the gateway (fast-check)",
      load: "sequential raw HTTP/1.1 requests",
      faults: "none",
      badInputs: RUNS,
      requests: RUNS,
      failed: 0,
      sessionsLost: 0,
      notes: `no 5xx, slowest ${slowest} ms`,
    });
  });

  it("request-smuggling forms are refused (400, 501 for a transfer coding), and nothing behind them is forwarded", async () => {
    // Each would let two parsers disagree on where the request ends; SMUGGLED is what a desync would run.
    const forms: Record<string, string> = {
      "Content-Length with Transfer-Encoding": `POST /user HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      "Transfer-Encoding with Content-Length": `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      "two different Content-Length": `POST /user HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`,
      "two equal Content-Length": `POST /user HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`,
      "Content-Length list": `POST /user HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello${SMUGGLED}`,
      "Content-Length +5": `POST /user HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello${SMUGGLED}`,
      "Content-Length 0x5": `POST /user HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello${SMUGGLED}`,
      "obs-fold Transfer-Encoding": `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      "obs-fold header": "GET /user HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
      "space before colon": `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      "Transfer-Encoding xchunked": `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      "Transfer-Encoding chunked, identity": `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      "two Transfer-Encoding": `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      "HTTP/1.0 chunked": `POST /user HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      "chunk size overflow": `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nx\r\n0\r\n\r\n${SMUGGLED}`,
      "bare LF in chunk extension": `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
      "bare LF chunk lines": `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n${SMUGGLED}`,
      "bare LF head": `GET /user HTTP/1.1\nHost: x\n\n${SMUGGLED}`,
      "bare CR head": `GET /user HTTP/1.1\rHost: x\r\n\r\n${SMUGGLED}`,
      "NUL in a header": "GET /user HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
      "space-prefixed first header": `GET /user HTTP/1.1\r\n Host: x\r\n\r\n${SMUGGLED}`,
      "two Host headers": `GET /user HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n${SMUGGLED}`,
      "no Host": "GET /user HTTP/1.1\r\n\r\n",
    };
    // As Envoy answers them: a transfer coding other than `chunked` is 501 (codec_impl.cc,
    // http1.invalid_transfer_encoding); an HTTP/1.0 request is served and ends its connection, so
    // what follows it is never read (the replica answers POST /user 405).
    const expected: Record<string, number> = {
      "Transfer-Encoding xchunked": 501,
      "Transfer-Encoding chunked, identity": 501,
      "two Transfer-Encoding": 501,
      "HTTP/1.0 chunked": 405,
    };
    const upstreamBefore = await upstreamRequests(tm);
    const outcomes: string[] = [];
    for (const [name, payload] of Object.entries(forms)) {
      const r = await rawExchange(port, payload, 2000);
      const responses = r.text.match(/HTTP\/1\.[01] \d{3}/g) ?? [];
      outcomes.push(
        `${name}: ${r.status} (${responses.length} response${responses.length === 1 ? "" : "s"})`,
      );
      assert.equal(r.status, expected[name] ?? 400, `${name}: ${r.text.slice(0, 80)}`);
      assert.equal(responses.length, 1, `${name}: the connection is closed after the answer`);
    }
    // A valid chunked request followed by a pipelined one: both parsers agree, two answers in order.
    const pipelined = await rawExchange(
      port,
      `POST /user HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      2000,
    );
    assert.deepEqual(pipelined.text.match(/HTTP\/1\.1 \d{3}/g), ["HTTP/1.1 405", "HTTP/1.1 404"]);
    // Some forms pass the head and fail in the body; the replicas must never see a smuggled request.
    const smuggled = (await upstreamRequests(tm)).other - upstreamBefore.other;
    assert.equal(smuggled, 1, "only the pipelined GET /nope reached a replica as an unknown path");
    record({
      group: "hostile",
      scenario: "request smuggling forms against the gateway (raw bytes)",
      load: "one connection per form",
      faults: "none",
      badInputs: Object.keys(forms).length,
      requests: Object.keys(forms).length + 1,
      failed: 0,
      sessionsLost: 0,
      notes: `every form refused (400, or 501 for a transfer coding) or, for HTTP/1.0, answered, and closed; nothing forwarded behind it: ${Object.keys(forms).join("; ")}`,
    });
  });

  it("slowloris heads and slow bodies are cut off by the gateway's timeouts; others are served meanwhile", async () => {
    const started = performance.now();
    const slow: { socket: Socket; kind: "head" | "body"; closedAt?: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const kind = i % 2 === 0 ? "head" : "body";
      const socket = createConnection({ host: "127.0.0.1", port });
      const entry: (typeof slow)[number] = { socket, kind };
      socket.on("error", () => {});
      socket.on("close", () => {
        entry.closedAt = performance.now() - started;
      });
      socket.write(
        kind === "head"
          ? "GET /user HTTP/1.1\r\nHost: x\r\n"
          : "POST /user HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
      );
      slow.push(entry);
    }
    const drip = setInterval(() => {
      for (const s of slow) {
        if (s.socket.destroyed) continue;
        s.socket.write(s.kind === "head" ? `X-Drip-${Math.random().toString(36).slice(2, 6)}: 1\r\n` : "x");
      }
    }, 500);
    try {
      const latencies: number[] = [];
      let served = 0;
      const deadline = Date.now() + 25_000;
      while (slow.some((s) => s.closedAt === undefined) && Date.now() < deadline) {
        const t0 = performance.now();
        const r = await gatewayGet(tm.gatewayUrl, "/user");
        latencies.push(performance.now() - t0);
        assert.equal(r.status, 200);
        served++;
        await sleep(200);
      }
      const heads = slow.filter((s) => s.kind === "head").map((s) => s.closedAt ?? Number.POSITIVE_INFINITY);
      const bodies = slow.filter((s) => s.kind === "body").map((s) => s.closedAt ?? Number.POSITIVE_INFINITY);
      const worst = Math.max(...latencies);
      const median = [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length / 2)] ?? 0;
      record({
        group: "hostile",
        scenario: "slowloris heads and slow bodies against the gateway",
        load: `${slow.length} slow connections (a header or a body byte every 500 ms) + a client served meanwhile`,
        faults: "none",
        badInputs: slow.length,
        requests: served,
        failed: 0,
        sessionsLost: 0,
        notes: `heads cut after ≤ ${(Math.max(...heads) / 1000).toFixed(1)} s, bodies after ≤ ${(Math.max(...bodies) / 1000).toFixed(1)} s; others' answers: median ${median.toFixed(0)} ms, slowest ${worst.toFixed(0)} ms`,
      });
      // Headers timeout 10 s, request timeout 15 s, checked every second.
      assert.ok(Math.max(...heads) < 12_500, `slow heads closed after ${heads.map((h) => h.toFixed(0))}`);
      assert.ok(Math.max(...bodies) < 17_500, `slow bodies closed after ${bodies.map((h) => h.toFixed(0))}`);
      // Starved would mean waiting for a timeout (seconds); the bound leaves room for a loaded 2-core machine.
      assert.ok(median < 250, `well-behaved clients' median ${median.toFixed(0)} ms`);
      assert.ok(worst < 2500, `a well-behaved client waited ${worst.toFixed(0)} ms`);
    } finally {
      clearInterval(drip);
      for (const s of slow) s.socket.destroy();
    }
  });
});

/** Requests for unknown paths the replicas answered, read from each replica's own /metrics. */
async function upstreamRequests(tm: TestMesh): Promise<{ other: number }> {
  let other = 0;
  for (const pod of tm.mesh.replicaSets.pods()) {
    if (!pod.port) continue;
    const text = await (await fetch(`http://127.0.0.1:${pod.port}/metrics`)).text();
    for (const line of text.split("\n")) {
      if (!line.startsWith("session_http_requests_total{") || !line.includes('route="other"')) continue;
      other += Number(line.split(" ").at(-1));
    }
  }
  return { other };
}
