/**
 * The short human report of `explain`: per route, the path through the configuration, the verdict
 * and every reason with its evidence and fix, then where sessions land.
 */
import type { ExplainReport, RouteReport } from "./index.js";

const VERDICT: Record<RouteReport["verdict"], string> = {
  sticky: "STICKY",
  "not-sticky": "NOT STICKY",
  "sticky-with-caveats": "STICKY, WITH CAVEATS",
};

function indent(text: string, by: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => `${by}${l}`)
    .join("\n");
}

function routeText(r: RouteReport): string {
  const lines: string[] = [];
  const where = [
    `listener ${r.listener.name}`,
    r.tcpProxy
      ? "TCP proxy"
      : r.routeConfig
        ? `route config ${r.routeConfig.name}`
        : "no route configuration",
    ...(r.virtualHost ? [`virtual host ${r.virtualHost.name}`] : []),
    ...(r.route
      ? [`route ${r.route.name || "(unnamed)"} ${JSON.stringify(r.route.match)}`]
      : r.tcpProxy
        ? []
        : ["no route matched (404)"]),
  ];
  lines.push(where.join(" → "));
  for (const c of r.clusters) {
    const healthy = c.hosts.filter(
      (h) => (h.health === "HEALTHY" || h.health === "UNKNOWN") && !h.ejected,
    ).length;
    lines.push(
      `  → cluster ${c.name}${r.clusters.length > 1 ? ` (weight ${c.weight})` : ""}: ${c.lbPolicy ?? "missing from the dump"}, ${healthy}/${c.hosts.length} hosts healthy`,
    );
  }
  const hash = Array.isArray(r.hashPolicy) ? r.hashPolicy : [];
  if (!r.tcpProxy) lines.push(`  hash policy: ${hash.length === 0 ? "none" : JSON.stringify(hash)}`);
  lines.push(`  verdict: ${VERDICT[r.verdict]}`);
  for (const f of r.findings) {
    lines.push(`  - [${f.severity}] ${f.id}: ${f.message}`);
    for (const e of f.evidence) lines.push(`      at ${e.path} = ${JSON.stringify(e.value)}`);
    if (f.fix) lines.push("      fix:", indent(f.fix, "        "));
    lines.push(`      see ${f.source}`);
  }
  for (const p of r.placement) {
    lines.push(`  placement on ${p.cluster} (${p.lbPolicy}, key: ${p.keyKind}):`);
    for (const k of p.keys) lines.push(`      ${k.key} → ${k.endpoint ?? "no host"}`);
    const total = Object.values(p.distribution).reduce((s, n) => s + n, 0);
    if (total > 0)
      lines.push(
        `      ${total} sessions: ${Object.entries(p.distribution)
          .map(([a, n]) => `${a} ${n}`)
          .join(", ")}`,
      );
    if (p.change)
      lines.push(
        `      after the change (${p.change.hosts.length} hosts): ${p.change.moved} of ${p.change.total} sessions move (${p.change.movedPercent.toFixed(1)} %), ${p.change.lost} of them because their host is gone`,
      );
  }
  return lines.join("\n");
}

export function explainText(report: ExplainReport): string {
  const p = report.proxy;
  const head = `${report.source}: ${p.kind} proxy${p.istioVersion ? `, Istio ${p.istioVersion}` : ""}${p.envoyVersion ? `, Envoy ${p.envoyVersion}` : ""}`;
  if (report.routes.length === 0) return `${head}\nno listener takes this request\n`;
  return `${head}\n\n${report.routes.map(routeText).join("\n\n")}\n\noverall: ${VERDICT[report.verdict]}\n`;
}
