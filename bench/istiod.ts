/**
 * Push benchmark: one push for 1,000 Services × 20 endpoints, each Service with its own
 * DestinationRule (cookie ring hash) and VirtualService bound to the ingress Gateway — the whole xDS
 * snapshot (Listeners, Routes, Clusters, Endpoints) translated from scratch, as istiod does on a full
 * push, then swapped into the gateway's data plane (route table, cluster configs, balancers).
 * Two kinds of push: nothing changed (every balancer kept), and one endpoint of every Service replaced
 * (every ring rebuilt). Writes the `istiod` section of BENCHMARKS.md.
 * Run: node --import tsx bench/istiod.ts   Knobs (env): BENCH_SERVICES (1000), BENCH_ENDPOINTS (20), BENCH_RUNS (15).
 */
import { DataPlane } from "../src/envoy/data-plane.js";
import { DEFAULT_GATEWAY_PROXY, translate } from "../src/istiod/index.js";
import { gatewayInput } from "./gateway-input.js";
import { machineLine, writeSection } from "./report.js";

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const TARGET_MS = 200;

const input = (generation = 0) => gatewayInput(SERVICES, ENDPOINTS, generation);

const dataPlane = new DataPlane({ listenerPort: DEFAULT_GATEWAY_PROXY.portMap[80] as number });
interface Timing {
  translate: number[];
  swap: number[];
  total: number[];
}
const unchanged: Timing = { translate: [], swap: [], total: [] };
const changed: Timing = { translate: [], swap: [], total: [] };
let counts = { listeners: 0, routes: 0, virtualHosts: 0, clusters: 0, endpoints: 0 };
let generation = 0;
// The first push builds every balancer; it is a warm-up, as is a second of each kind.
for (let run = 0; run < 2 * RUNS + 3; run++) {
  const kind = run % 2 === 0 ? unchanged : changed;
  if (kind === changed) generation++;
  // A new input each push, as each push of istiod reads the cluster's state anew (and nothing derived
  // from an earlier push's input may be reused).
  const data = input(generation);
  const started = performance.now();
  const snapshot = translate(data, String(run));
  const translated = performance.now();
  dataPlane.apply(snapshot);
  const swapped = performance.now();
  if (run >= 3) {
    kind.translate.push(translated - started);
    kind.swap.push(swapped - translated);
    kind.total.push(swapped - started);
  }
  counts = {
    listeners: snapshot.listeners.length,
    routes: snapshot.routes.length,
    virtualHosts: snapshot.routes.reduce((n, r) => n + (r.virtualHosts?.length ?? 0), 0),
    clusters: snapshot.clusters.length,
    endpoints: snapshot.endpoints.reduce(
      (n, a) => n + a.endpoints.reduce((m, l) => m + l.lbEndpoints.length, 0),
      0,
    ),
  };
}
if (dataPlane.rejected) throw new Error(`the data plane refused a push: ${dataPlane.rejected}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const worst = (xs: number[]) => Math.max(...xs);
const row = (what: string, t: Timing) =>
  `| ${what} | ${median(t.translate).toFixed(1)} ms | ${median(t.swap).toFixed(1)} ms | ${median(t.total).toFixed(1)} ms | ${worst(t.total).toFixed(1)} ms | ≤ ${TARGET_MS} ms | ${median(t.total) <= TARGET_MS ? "met" : "missed"} |`;

const markdown = [
  "## istiod translation (`bench/istiod.ts`)",
  "",
  machineLine(),
  "",
  `One full push for ${SERVICES.toLocaleString("en")} Services × ${ENDPOINTS} endpoints, each with a DestinationRule (cookie ring hash)`,
  "and a VirtualService: istiod's translation, then the swap into the gateway's data plane.",
  "",
  "| Push | Translate (median) | Swap (median) | Total (median) | Total (slowest) | Target | Met |",
  "|---|---|---|---|---|---|---|",
  row("nothing changed: every balancer kept", unchanged),
  row("one endpoint of every Service replaced: every cluster takes new hosts", changed),
  "",
  `The snapshot holds ${counts.listeners} listener, ${counts.routes} route configuration with ${counts.virtualHosts.toLocaleString("en")} virtual hosts,`,
  `${counts.clusters.toLocaleString("en")} clusters and ${counts.endpoints.toLocaleString("en")} endpoints; ${RUNS} pushes of each kind after 3 warm-up pushes,`,
  "translated from scratch each time (no incremental push), into one data plane that lives across pushes.",
  "The swap compares each resource with the one in force (as Envoy compares hashes) and keeps equal ones",
  "as they are; the ones that changed are read anew and their clusters take the new hosts. A changed",
  "cluster's balancer (its ring) is built on the cluster's first request after the push, not in the swap.",
].join("\n");

console.log(markdown);
await writeSection("istiod", markdown);
