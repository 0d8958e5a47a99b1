import type { ClientRecord, FailureKind, Outcome } from "./outcome.js";

export type Level = "on" | "partial" | "off" | "unknown";
export type StateLevel = "kept" | "partial" | "lost" | "unknown";

export interface Ratio {
  readonly count: number;
  readonly of: number;
  /** 0–100, or undefined when nothing was eligible. */
  readonly percent: number | undefined;
}

export interface ClientSummary {
  readonly client: number;
  readonly pods: readonly string[];
  readonly counts: readonly (number | null)[];
  /** Stayed on one pod from its second answer on (the first may carry no hash key yet). */
  readonly sticky: boolean | undefined;
  /** Its first answer came from another pod than all the later ones. */
  readonly firstMissed: boolean;
  readonly continuous: boolean | undefined;
  readonly failed: number;
}

export interface DisruptionSummary {
  readonly label: string;
  /** Clients with an answer both before and after the disruption. */
  readonly clients: number;
  readonly moved: Ratio;
  readonly lost: Ratio;
  readonly requestsAfter: number;
  readonly failedAfter: number;
}

export interface Summary {
  readonly clients: number;
  readonly requests: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly stickiness: Ratio;
  readonly firstMissed: Ratio;
  readonly continuity: Ratio;
  readonly pods: readonly string[];
  readonly clientsPerPod: Readonly<Record<string, number>>;
  readonly failures: Readonly<Partial<Record<FailureKind, number>>>;
  readonly perClient: readonly ClientSummary[];
  readonly disruption?: DisruptionSummary;
  readonly affinity: Level;
  readonly state: StateLevel;
  /** One line per verdict, then what it likely means and what to do. */
  readonly verdict: readonly string[];
  readonly advice: readonly string[];
}

/** At or above this share a property counts as holding; below LOW it counts as absent. */
const HIGH = 90;
const LOW = 50;

const ratio = (count: number, of: number): Ratio => ({
  count,
  of,
  percent: of === 0 ? undefined : (100 * count) / of,
});
const answered = (o: Outcome): o is Extract<Outcome, { ok: true }> => o.ok;

/** A phase is the run before or after the disruption: stickiness and continuity are judged within one. */
function phases(record: ClientRecord): Outcome[][] {
  const at = record.disruptedAt;
  return at === undefined
    ? [[...record.outcomes]]
    : [record.outcomes.slice(0, at), record.outcomes.slice(at)];
}

function summarizeClient(record: ClientRecord): ClientSummary {
  let sticky: boolean | undefined;
  let continuous: boolean | undefined;
  let firstMissed = false;
  for (const [index, phase] of phases(record).entries()) {
    const ok = phase.filter(answered);
    if (ok.length < 2) continue;
    // A client's very first request has no cookie yet; whether it lands with the rest is reported apart.
    const judged = index === 0 ? ok.slice(1) : ok;
    const onePod = judged.every((o) => o.hostname === judged[0]?.hostname);
    if (index === 0 && onePod && ok[0]?.hostname !== ok[1]?.hostname) firstMissed = true;
    const stepByOne = ok.every((o, i) => i === 0 || o.count === (ok[i - 1]?.count ?? 0) + 1);
    sticky = (sticky ?? true) && onePod;
    continuous = (continuous ?? true) && stepByOne;
  }
  const pods: string[] = [];
  for (const o of record.outcomes) if (o.ok && !pods.includes(o.hostname)) pods.push(o.hostname);
  return {
    client: record.client,
    pods,
    counts: record.outcomes.map((o) => (o.ok ? o.count : null)),
    sticky,
    firstMissed,
    continuous,
    failed: record.outcomes.filter((o) => !o.ok).length,
  };
}

function level(r: Ratio, podsSeen: number): Level {
  if (r.percent === undefined || podsSeen < 2) return "unknown";
  return r.percent >= HIGH ? "on" : r.percent < LOW ? "off" : "partial";
}

function stateLevel(r: Ratio): StateLevel {
  if (r.percent === undefined) return "unknown";
  return r.percent >= HIGH ? "kept" : r.percent < LOW ? "lost" : "partial";
}

function summarizeDisruption(records: readonly ClientRecord[], label: string): DisruptionSummary {
  let clients = 0;
  let moved = 0;
  let lost = 0;
  let requestsAfter = 0;
  let failedAfter = 0;
  for (const r of records) {
    const at = r.disruptedAt ?? r.outcomes.length;
    const after = r.outcomes.slice(at);
    requestsAfter += after.length;
    failedAfter += after.filter((o) => !o.ok).length;
    const before = r.outcomes.slice(0, at).filter(answered).at(-1);
    const first = after.find(answered);
    if (!before || !first) continue;
    clients++;
    if (first.hostname !== before.hostname) moved++;
    // Only a failed request in between may legitimately have counted once without an answer.
    const failedBetween = after.indexOf(first);
    if (first.count < before.count + 1 || first.count > before.count + 1 + failedBetween) lost++;
  }
  return {
    label,
    clients,
    moved: ratio(moved, clients),
    lost: ratio(lost, clients),
    requestsAfter,
    failedAfter,
  };
}

const pct = (r: Ratio) => (r.percent === undefined ? "n/a" : `${r.percent.toFixed(0)}%`);

/** Turns what every client saw into the checker's measurements and verdicts. Pure. */
export function analyze(records: readonly ClientRecord[], disruptionLabel?: string): Summary {
  const perClient = records.map(summarizeClient);
  const all = records.flatMap((r) => r.outcomes);
  const ok = all.filter(answered);
  const pods = [...new Set(ok.map((o) => o.hostname))].sort();
  const clientsPerPod: Record<string, number> = {};
  for (const c of perClient) for (const p of c.pods) clientsPerPod[p] = (clientsPerPod[p] ?? 0) + 1;
  const failures: Partial<Record<FailureKind, number>> = {};
  for (const o of all) if (!o.ok) failures[o.kind] = (failures[o.kind] ?? 0) + 1;

  const judgedSticky = perClient.filter((c) => c.sticky !== undefined);
  const judgedContinuous = perClient.filter((c) => c.continuous !== undefined);
  const stickiness = ratio(judgedSticky.filter((c) => c.sticky).length, judgedSticky.length);
  const firstMissed = ratio(judgedSticky.filter((c) => c.firstMissed).length, judgedSticky.length);
  const continuity = ratio(judgedContinuous.filter((c) => c.continuous).length, judgedContinuous.length);
  const affinity = level(stickiness, pods.length);
  const state = stateLevel(continuity);

  const verdict: string[] = [];
  const advice: string[] = [];
  if (ok.length === 0) {
    verdict.push("no answer could be read: nothing to judge");
  } else {
    verdict.push(
      affinity === "unknown"
        ? pods.length < 2
          ? `affinity: cannot tell — only one pod answered (${pods[0]})`
          : "affinity: cannot tell — too few answers per client"
        : `affinity: ${affinity} — ${pct(stickiness)} of clients stayed on one pod`,
    );
    if (affinity === "on" && (firstMissed.percent ?? 0) >= 10) {
      verdict.push(
        `first request: ${pct(firstMissed)} of clients were first served by another pod than the rest (no hash key before the first response)`,
      );
    }
    verdict.push(
      state === "unknown"
        ? "session state: cannot tell — too few answers per client"
        : `session state: ${state} — ${pct(continuity)} of clients counted up by one on every request`,
    );
    advice.push(...explain(affinity, state, perClient, records));
  }
  const disruption =
    disruptionLabel === undefined ? undefined : summarizeDisruption(records, disruptionLabel);
  if (disruption) {
    verdict.push(
      `after ${disruption.label}: ${pct(disruption.moved)} of sessions moved pod, ${pct(disruption.lost)} lost their state, ${disruption.failedAfter} of ${disruption.requestsAfter} requests failed`,
    );
  }
  return {
    clients: records.length,
    requests: all.length,
    succeeded: ok.length,
    failed: all.length - ok.length,
    stickiness,
    firstMissed,
    continuity,
    pods,
    clientsPerPod,
    failures,
    perClient,
    ...(disruption ? { disruption } : {}),
    affinity,
    state,
    verdict,
    advice,
  };
}

function explain(
  affinity: Level,
  state: StateLevel,
  clients: readonly ClientSummary[],
  records: readonly ClientRecord[],
): string[] {
  const stuckAtOne = clients.filter((c) => c.counts.filter((n) => n !== null).every((n) => n === 1)).length;
  const kept = records.filter((r) => r.cookies.length > 0).length;
  if (affinity === "unknown") {
    return state === "kept"
      ? ["Only one pod answered and its sessions count on; run against several replicas to judge affinity."]
      : [
          "Only one pod answered, yet sessions restarted: cookies are not kept or sent, or sessions expire or are evicted (SESSION_TTL_SECONDS, MAX_SESSIONS).",
        ];
  }
  if (state === "kept") {
    return affinity === "on"
      ? ["Each client stays on one pod and its session counts on: affinity and session state both work."]
      : [
          "Requests spread over pods yet sessions count on: the state is shared (e.g. SESSION_STORE=redis), so affinity is not needed for correctness.",
        ];
  }
  if (kept === 0) {
    return [
      "No client kept any cookie, so no request could name its session.",
      "Check that the service sets its session cookie and that the client stores and sends it (curl: -c jar -b jar).",
    ];
  }
  if (affinity === "on" && stuckAtOne > clients.length / 2) {
    return [
      "Requests stick to one pod but every answer starts a new session (the walkthrough's stuck counter): that pod never sees a session it knows.",
      "Likely: the hash uses the app's own cookie without a ttl, so the first request, which created the session, was balanced to another pod; or the client sends a stale session cookie (a frozen jar keeps only the first response's cookies).",
      "Fix: hash on a cookie the gateway generates (consistentHash.httpCookie with a ttl and a name of its own, as deploy/session-affinity.yaml does), or keep sessions in a shared store (SESSION_STORE=redis).",
    ];
  }
  if (affinity === "off" || affinity === "partial") {
    return [
      "Requests spread over pods and each pod keeps its own sessions in memory, so the counter restarts wherever a request lands.",
      "Fix: apply a DestinationRule with consistentHash (deploy/session-affinity.yaml), or share the state (SESSION_STORE=redis).",
    ];
  }
  return [
    "Clients stay on one pod but some sessions restarted: a pod may have been replaced or sessions evicted or expired (MAX_SESSIONS, SESSION_TTL_SECONDS).",
  ];
}
