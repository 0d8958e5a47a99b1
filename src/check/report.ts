import type { Ratio, Summary } from "./analyze.js";

const pct = (r: Ratio) => (r.percent === undefined ? "n/a" : `${r.percent.toFixed(0)}% (${r.count}/${r.of})`);
const MAX_CLIENT_ROWS = 20;

/** The human-readable report: what was sent, per-client sequences, measurements, then verdicts. */
export function formatReport(summary: Summary, heading: string): string {
  const lines = [
    heading,
    `${summary.requests} requests, ${summary.succeeded} answered, ${summary.failed} failed`,
    "",
  ];
  const width = Math.max(6, ...summary.perClient.map((c) => c.pods.join(",").length));
  lines.push(`${"client".padEnd(7)} ${"pods".padEnd(width)}  counts`);
  for (const c of summary.perClient.slice(0, MAX_CLIENT_ROWS)) {
    const counts = c.counts.map((n) => (n === null ? "×" : String(n))).join(" ");
    lines.push(`${String(c.client).padEnd(7)} ${c.pods.join(",").padEnd(width)}  ${counts}`);
  }
  if (summary.perClient.length > MAX_CLIENT_ROWS)
    lines.push(`… ${summary.perClient.length - MAX_CLIENT_ROWS} more clients`);
  lines.push("");
  const perPod = Object.entries(summary.clientsPerPod)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pod, n]) => `${pod} ${n}`);
  lines.push(
    `pods seen:    ${summary.pods.length}${perPod.length ? ` (clients per pod: ${perPod.join(", ")})` : ""}`,
  );
  lines.push(`stickiness:   ${pct(summary.stickiness)} of clients stayed on one pod`);
  lines.push(`continuity:   ${pct(summary.continuity)} of clients counted up by exactly one`);
  const failures = Object.entries(summary.failures).map(([kind, n]) => `${kind} ${n}`);
  lines.push(`failures:     ${failures.length ? failures.join(", ") : "none"}`);
  if (summary.disruption) {
    const d = summary.disruption;
    lines.push(`disruption:   ${d.label}`);
    lines.push(`  moved pod:  ${pct(d.moved)} of sessions`);
    lines.push(`  state lost: ${pct(d.lost)} of sessions`);
    lines.push(`  failed:     ${d.failedAfter} of ${d.requestsAfter} requests after it`);
  }
  lines.push("");
  for (const v of summary.verdict) lines.push(v);
  for (const a of summary.advice) lines.push(`  ${a}`);
  return `${lines.join("\n")}\n`;
}
