import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/check/analyze.js";
import type { ClientRecord, Outcome } from "../../src/check/outcome.js";

const ok = (hostname: string, count: number): Outcome => ({ ok: true, hostname, count });
const client = (n: number, outcomes: Outcome[], extra: Partial<ClientRecord> = {}): ClientRecord => ({
  client: n,
  outcomes,
  cookies: ["sid"],
  ...extra,
});

test("each client on its own pod, counting up: affinity on, state kept", () => {
  const records = [1, 2, 3].map((n) =>
    client(
      n,
      [1, 2, 3, 4].map((c) => ok(`pod-${n}`, c)),
    ),
  );
  const s = analyze(records);
  assert.equal(s.affinity, "on");
  assert.equal(s.state, "kept");
  assert.equal(s.stickiness.percent, 100);
  assert.deepEqual(s.clientsPerPod, { "pod-1": 1, "pod-2": 1, "pod-3": 1 });
  assert.match(s.verdict[0] ?? "", /^affinity: on/);
  assert.match(s.verdict[1] ?? "", /^session state: kept/);
});

test("requests scattered with counters restarting: affinity off, state lost, and the fix named", () => {
  const records = [1, 2].map((n) => client(n, [ok("a", 1), ok("b", 1), ok("c", 1), ok("a", 2)]));
  const s = analyze(records);
  assert.equal(s.affinity, "off");
  assert.equal(s.state, "lost");
  assert.match(s.advice.join(" "), /DestinationRule with consistentHash/);
});

test("the walkthrough's symptom — sticky after the first request, counter stuck at 1 — is recognised and explained", () => {
  const records = [1, 2, 3, 4].map((n) =>
    client(n, [ok("first", 1), ...Array.from({ length: 5 }, () => ok(`pod-${n}`, 1))]),
  );
  const s = analyze(records);
  assert.equal(s.affinity, "on");
  assert.equal(s.state, "lost");
  assert.equal(s.firstMissed.percent, 100);
  assert.ok(s.verdict.some((v) => v.startsWith("first request: 100%")));
  assert.match(s.advice[0] ?? "", /stuck counter/);
  assert.match(s.advice.join(" "), /ttl/);
  assert.match(s.advice.join(" "), /SESSION_STORE=redis/);
});

test("spread over pods but counting on means shared state", () => {
  const records = [1, 2].map((n) => client(n, [ok("a", 1), ok("b", 2), ok("c", 3)]));
  const s = analyze(records);
  assert.equal(s.affinity, "off");
  assert.equal(s.state, "kept");
  assert.match(s.advice[0] ?? "", /shared/);
});

test("a client that kept no cookie is told apart", () => {
  const records = [1, 2].map((n) => client(n, [ok("a", 1), ok("a", 1), ok("b", 1)], { cookies: [] }));
  assert.match(analyze(records).advice[0] ?? "", /No client kept any cookie/);
});

test("a disruption counts sessions that moved, sessions that lost state and failures after it", () => {
  const records = [
    client(1, [ok("a", 1), ok("a", 2), ok("a", 3), ok("a", 4)], { disruptedAt: 2 }),
    client(2, [ok("b", 1), ok("b", 2), ok("c", 1), ok("c", 2)], { disruptedAt: 2 }),
    client(3, [ok("b", 1), ok("b", 2), { ok: false, kind: "status", detail: "HTTP 503" }, ok("d", 4)], {
      disruptedAt: 2,
    }),
    client(4, [ok("e", 1), ok("e", 2), ok("f", 3), ok("f", 4)], { disruptedAt: 2 }),
  ];
  const s = analyze(records, "scale to 6");
  assert.deepEqual(
    {
      clients: s.disruption?.clients,
      moved: s.disruption?.moved.count,
      lost: s.disruption?.lost.count,
      failed: s.disruption?.failedAfter,
    },
    { clients: 4, moved: 3, lost: 1, failed: 1 },
    "client 3's failed request may have counted once, so 2 → 4 is not a loss",
  );
  assert.equal(
    s.stickiness.percent,
    100,
    "moves across the disruption are reported apart, not as unstickiness",
  );
  assert.match(
    s.verdict.at(-1) ?? "",
    /^after scale to 6: 75% of sessions moved pod, 25% lost their state, 1 of 8 requests failed/,
  );
});

test("failures are counted by kind; nothing answered means nothing judged", () => {
  const records = [
    client(1, [
      { ok: false, kind: "refused", detail: "ECONNREFUSED" },
      { ok: false, kind: "timeout", detail: "t" },
    ]),
  ];
  const s = analyze(records);
  assert.deepEqual(s.failures, { refused: 1, timeout: 1 });
  assert.equal(s.affinity, "unknown");
  assert.match(s.verdict[0] ?? "", /no answer could be read/);
});
