/** Load shapes shared by the memory and Redis runs through the gateway. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { gatewayGet } from "../helpers/mesh.js";
import { pool, record, TrackedSession } from "../helpers/reliability.js";

export interface ExactnessResult {
  readonly clients: number;
  readonly requests: number;
  readonly failed: number;
  /** Sessions whose final counter (read by one more GET) is not their 200s + 1, or rose unevenly. */
  readonly inexact: string[];
  readonly ms: number;
  /** Failed answers by status and the start of their body. */
  readonly kinds: Record<string, number>;
}

/**
 * `clients` sessions at once, each sending up to `requestsEach` GETs one after another (bounded by
 * `budgetMs`), then one more GET that must read exactly its 200s + 1.
 */
export async function exactnessRun(
  baseUrl: string,
  options: { clients: number; requestsEach: number; budgetMs: number },
): Promise<ExactnessResult> {
  const started = performance.now();
  const deadline = Date.now() + options.budgetMs;
  const sessions = Array.from({ length: options.clients }, () => new TrackedSession(baseUrl));
  await Promise.all(
    sessions.map(async (s) => {
      for (let i = 0; i < options.requestsEach && Date.now() < deadline; i++) await s.get();
    }),
  );
  const ms = performance.now() - started;
  let requests = 0;
  let failed = 0;
  const inexact: string[] = [];
  const kinds: Record<string, number> = {};
  for (const [i, s] of sessions.entries()) {
    for (const f of s.failures) {
      const key = `${f.status} ${f.body.trim().slice(0, 50)}`;
      kinds[key] = (kinds[key] ?? 0) + 1;
    }
    for (const cause of s.errorCauses) kinds[`error ${cause}`] = (kinds[`error ${cause}`] ?? 0) + 1;
    requests += s.ok + s.failures.length + s.errors;
    failed += s.failures.length + s.errors;
    if (s.counts[0] !== 1 || s.jumps().length > 0) inexact.push(`#${i}: counters ${s.counts.join(",")}`);
  }
  // The final read, after every client is done: nothing counted twice, nothing lost. It checks, it is
  // not load: 50 at a time, so a starved machine cannot time its own verification out.
  await pool([...sessions.entries()], 50, async ([i, s]) => {
    if (s.ok === 0) return;
    const expected = s.ok + 1;
    const r = await gatewayGet(baseUrl, "/user", { jar: s.jar, readOnlyJar: true });
    if (r.count !== expected)
      inexact.push(`#${i}: ${s.ok} × 200 but the next read is ${r.count} (${r.status})`);
  });
  return { clients: options.clients, requests, failed, inexact, ms, kinds };
}

export interface BurstResult {
  readonly requests: number;
  readonly failed: number;
  readonly exact: boolean;
  readonly min: number;
  readonly max: number;
  readonly distinct: number;
  readonly final: number | undefined;
}

/** One session, then `n` concurrent GETs on its cookie: the counters seen must be 2..n+1, each once. */
export async function sameSessionBurst(baseUrl: string, n: number): Promise<BurstResult> {
  const s = new TrackedSession(baseUrl);
  await s.get();
  const responses = await Promise.all(
    Array.from({ length: n }, () => gatewayGet(baseUrl, "/user", { jar: s.jar, readOnlyJar: true })),
  );
  const ok = responses.filter((r) => r.status === 200 && r.count !== undefined);
  const counts = new Set(ok.map((r) => r.count as number));
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  const final = (await gatewayGet(baseUrl, "/user", { jar: s.jar, readOnlyJar: true })).count;
  return {
    requests: n + 2,
    failed: n - ok.length,
    exact: s.counts[0] === 1 && counts.size === n && min === 2 && max === n + 1 && final === n + 2,
    min,
    max,
    distinct: counts.size,
    final,
  };
}

/**
 * `concurrency` workers loop over `sessions` until `during` resolves; a session is never in flight
 * twice, so its counters must rise one by one. `onServed` sees each session after each 200.
 */
export async function loopSessions(
  sessions: readonly TrackedSession[],
  concurrency: number,
  during: () => Promise<void>,
  onServed?: (s: TrackedSession) => void,
): Promise<{ requests: number }> {
  let running = true;
  let requests = 0;
  let next = 0;
  const busy = new Set<TrackedSession>();
  const worker = async () => {
    while (running) {
      let s: TrackedSession | undefined;
      for (let tries = 0; tries < sessions.length && s === undefined; tries++) {
        const candidate = sessions[next++ % sessions.length] as TrackedSession;
        if (!busy.has(candidate)) s = candidate;
      }
      if (!s) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      busy.add(s);
      const r = await s.get();
      busy.delete(s);
      requests++;
      if (r?.status === 200) onServed?.(s);
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  try {
    await during();
  } finally {
    running = false;
    await Promise.all(workers);
  }
  return { requests };
}

/**
 * The two exactness cases every store must pass through the gateway, declared in the caller's
 * `describe`: 1,000 clients at once, and 200 concurrent requests on one cookie.
 */
export function exactnessCases(
  names: { readonly clients: string; readonly store: string },
  gatewayUrl: () => string,
): void {
  it("1,000 clients at once: every session's counter equals its 200s", async () => {
    const result = await exactnessRun(gatewayUrl(), { clients: 1000, requestsEach: 5, budgetMs: 60_000 });
    record({
      group: "load",
      scenario: names.clients,
      load: `${result.clients} concurrent clients × ≤5 GETs, 5 replicas (${(result.ms / 1000).toFixed(1)} s)`,
      faults: "none",
      badInputs: 0,
      requests: result.requests,
      failed: result.failed,
      sessionsLost: result.inexact.length,
    });
    assert.deepEqual(result.kinds, {}, "failed answers");
    assert.deepEqual(result.inexact, [], "sessions whose counter differs from their 200s");
    assert.equal(result.failed, 0);
    assert.ok(result.requests >= 4000, `only ${result.requests} requests`);
  });

  it("200 concurrent requests on one cookie: each increment counted once", async () => {
    const result = await sameSessionBurst(gatewayUrl(), 200);
    record({
      group: "load",
      scenario: `same session, 200 concurrent GETs, ${names.store}`,
      load: "1 cookie, 200 concurrent GETs",
      faults: "none",
      badInputs: 0,
      requests: result.requests,
      failed: result.failed,
      sessionsLost: result.exact ? 0 : 1,
      notes: `counters seen ${result.min}–${result.max}, final ${result.final}`,
    });
    assert.equal(result.failed, 0);
    assert.ok(
      result.exact,
      `counters ${result.min}–${result.max} (distinct ${result.distinct}), final ${result.final}`,
    );
  });
}
