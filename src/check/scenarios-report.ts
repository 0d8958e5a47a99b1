/**
 * The scenario report as files: a markdown table with how to read it, and a hand-written SVG chart of
 * grouped bars (sessions moved, state lost, and `simulate`'s prediction as a mark). Pure.
 */
import type { Ratio } from "./analyze.js";
import {
  DISRUPTION_LABELS,
  POLICY_LABELS,
  REPLICAS,
  SCALE_TO,
  type ScenarioResult,
  type ScenariosReport,
  STORE_LABELS,
} from "./scenario-matrix.js";

const percent = (r: Ratio) =>
  r.percent === undefined ? "n/a" : `${r.percent.toFixed(0)}% (${r.count}/${r.of})`;

function predictionCell(r: ScenarioResult): string {
  if (!r.prediction) return "n/a";
  const lb = r.prediction.balancer === "maglev" ? "Maglev" : "ring hash";
  return `${r.prediction.movedPercent.toFixed(1)}% (${lb}, ${r.prediction.scenario})`;
}

function failedCell(r: ScenarioResult): string {
  const kinds = Object.entries(r.failures).map(([kind, n]) => `${kind} ${n}`);
  return `${r.failed} of ${r.requests}${kinds.length ? ` (${kinds.join(", ")})` : ""}`;
}

export function formatScenariosMarkdown(report: ScenariosReport): string {
  const day = report.date.slice(0, 10);
  const lines = [
    "# Session affinity under disruption, measured on the local mesh",
    "",
    `Measured on ${day} by \`session-affinity scenarios --clients ${report.clients} --requests ${report.requests}\`:`,
    `for each combination a fresh local mesh from the manifests in \`deploy/\` with ${report.replicas} ready`,
    `replicas, ${report.clients} clients × ${report.requests} requests with a browser cookie jar (fresh sessions),`,
    "and the disruption when every client has sent half of its requests. Each session's last answer",
    "before the disruption is compared with its first answer after it.",
    "",
    "| Policy | Store | Disruption | Balancer in force | Stayed on one pod | Sessions moved | State lost | Failed requests | Predicted moved (`simulate`) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of report.results) {
    const head = `| ${POLICY_LABELS[r.policy]} | ${STORE_LABELS[r.store]} | ${DISRUPTION_LABELS[r.disruption]}`;
    if (r.error) {
      lines.push(`${head} | — | — | not measured | — | — | ${predictionCell(r)} |`);
      continue;
    }
    lines.push(
      `${head} | ${r.lb} | ${percent(r.stickiness)} | ${percent(r.moved)} | ${percent(r.lost)} | ${failedCell(r)} | ${predictionCell(r)} |`,
    );
  }
  const failed = report.results.filter((r) => r.error);
  if (failed.length > 0) {
    lines.push("", "Not measured:", "");
    for (const r of failed) lines.push(`- ${r.name}: ${r.error}`);
  }
  lines.push(
    "",
    "![Sessions moved and state lost per combination](scenarios.svg)",
    "",
    "## Reading the table",
    "",
    "- **Stayed on one pod**: clients that stayed on one pod before the disruption and on one pod after",
    "  it (their very first request, which has no cookie yet, is not judged). Without a rule requests",
    "  spread, so sessions move and, with the memory store, lose their state on every request, disruption",
    "  or not.",
    "- **Sessions moved**: clients whose first answer after the disruption came from another pod (by name).",
    "- **State lost**: clients whose counter did not go on by one across the disruption: the pod that",
    "  answered did not know the session. With Redis every pod knows every session.",
    "- **Failed requests**: requests without a usable answer, of all requests sent, by kind (`status`:",
    "  a non-2xx answer; `refused`, `reset`, `timeout`: the connection).",
    `- **Predicted moved**: \`simulate\` with 100000 synthetic sessions, ${REPLICAS} pods, the balancer and`,
    "  ring or table size the mesh ran. `scale` maps to its " +
      `\`scale ${REPLICAS}→${SCALE_TO}\`` +
      ". A pod",
    "  killed is restarted in place and listens at its old address again, as a restarted container keeps",
    "  its pod's IP, so once it is ready the ring or table is what it was: no session is predicted to move,",
    "  and with the memory store the sessions it held lose their state (one pod's share). A rolling",
    "  restart replaces every pod and the other policies do not hash: n/a.",
    `- One session is ${(100 / Math.max(1, report.clients)).toFixed(1)} points here; differences of a few`,
    "  sessions between the measured and predicted moves are sampling noise.",
    "",
  );
  return lines.join("\n");
}

const escapeXml = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

const COLORS = { moved: "#0072B2", lost: "#D55E00", predicted: "#000000", band: "#F2F2F2", grid: "#CCCCCC" };

/** Horizontal grouped bars, one group per combination: two bars and, where one exists, the prediction. */
export function formatScenariosSvg(report: ScenariosReport): string {
  const rows = report.results;
  const label = 300;
  const plot = 420;
  const right = 50;
  const top = 86;
  const group = 34;
  const bar = 12;
  const width = label + plot + right;
  const height = top + rows.length * group + 40;
  const x = (p: number) => label + (plot * Math.max(0, Math.min(100, p))) / 100;
  const title = "Sessions moved and session state lost per disruption, measured on the local mesh";
  const desc = rows
    .map((r) =>
      r.error
        ? `${r.name}: not measured`
        : `${r.name}: ${r.moved.percent?.toFixed(0) ?? "n/a"}% moved, ${r.lost.percent?.toFixed(0) ?? "n/a"}% state lost${r.prediction ? `, ${r.prediction.movedPercent.toFixed(1)}% moved predicted` : ""}`,
    )
    .join("; ");
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="title desc" font-family="sans-serif" font-size="12">`,
    `<title id="title">${escapeXml(title)}</title>`,
    `<desc id="desc">${escapeXml(`${report.clients} clients × ${report.requests} requests per combination, ${report.replicas} replicas, ${report.date.slice(0, 10)}. ${desc}.`)}</desc>`,
    `<rect width="${width}" height="${height}" fill="#FFFFFF"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  const legend: [string, string][] = [
    ["sessions moved", COLORS.moved],
    ["state lost", COLORS.lost],
  ];
  let lx = label;
  for (const [name, color] of legend) {
    out.push(`<rect x="${lx}" y="38" width="14" height="14" fill="${color}"/>`);
    out.push(`<text x="${lx + 20}" y="50">${name}</text>`);
    lx += 130;
  }
  out.push(
    `<line x1="${lx + 7}" y1="36" x2="${lx + 7}" y2="54" stroke="${COLORS.predicted}" stroke-width="3"/>`,
    `<text x="${lx + 16}" y="50">moved, predicted by simulate</text>`,
  );
  for (const [i, r] of rows.entries()) {
    const y = top + i * group;
    const policyIndex = Object.keys(POLICY_LABELS).indexOf(r.policy);
    if (policyIndex % 2 === 0)
      out.push(`<rect x="0" y="${y}" width="${width}" height="${group}" fill="${COLORS.band}"/>`);
    out.push(`<text x="${label - 8}" y="${y + group / 2 + 4}" text-anchor="end">${escapeXml(r.name)}</text>`);
  }
  for (const tick of [0, 25, 50, 75, 100]) {
    out.push(
      `<line x1="${x(tick)}" y1="${top - 4}" x2="${x(tick)}" y2="${top + rows.length * group}" stroke="${COLORS.grid}"/>`,
      `<text x="${x(tick)}" y="${top + rows.length * group + 16}" text-anchor="middle">${tick}%</text>`,
    );
  }
  out.push(
    `<text x="${label + plot / 2}" y="${top + rows.length * group + 34}" text-anchor="middle">% of sessions (${report.clients} per combination)</text>`,
  );
  for (const [i, r] of rows.entries()) {
    const y = top + i * group + (group - 2 * bar) / 2;
    if (r.error) {
      out.push(`<text x="${label + 6}" y="${y + bar + 4}" fill="#555555">not measured</text>`);
      continue;
    }
    for (const [j, [ratio, color]] of (
      [
        [r.moved, COLORS.moved],
        [r.lost, COLORS.lost],
      ] as const
    ).entries()) {
      const p = ratio.percent ?? 0;
      const by = y + j * bar;
      // The moved bar's value goes past the prediction mark so the two never overlap.
      const end = j === 0 && r.prediction ? Math.max(x(p), x(r.prediction.movedPercent) + 2) : x(p);
      out.push(
        `<rect x="${label}" y="${by}" width="${(x(p) - label).toFixed(1)}" height="${bar - 1}" fill="${color}"/>`,
        `<text x="${(end + 4).toFixed(1)}" y="${by + bar - 2}" font-size="10">${ratio.percent === undefined ? "n/a" : `${p.toFixed(0)}%`}</text>`,
      );
    }
    if (r.prediction) {
      const px = x(r.prediction.movedPercent).toFixed(1);
      out.push(
        `<line x1="${px}" y1="${y - 2}" x2="${px}" y2="${y + bar + 1}" stroke="${COLORS.predicted}" stroke-width="3"/>`,
      );
    }
  }
  out.push("</svg>", "");
  return out.join("\n");
}

export function formatScenariosJson(report: ScenariosReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
