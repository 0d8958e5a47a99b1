/**
 * istiod translation benchmark: one push for 1,000 Services × 20 endpoints, each Service with its own
 * DestinationRule (cookie ring hash) and VirtualService bound to the ingress Gateway — the whole xDS
 * snapshot (Listeners, Routes, Clusters, Endpoints) built from scratch, as istiod does on a full push.
 * Writes the `istiod` section of BENCHMARKS.md.
 * Run: node --import tsx bench/istiod.ts   Knobs (env): BENCH_SERVICES (1000), BENCH_ENDPOINTS (20), BENCH_RUNS (15).
 */
import { DEFAULT_GATEWAY_PROXY, type IstiodInput, translate } from "../src/istiod/index.js";
import type { KubeObject } from "../src/istiod/input.js";
import { machineLine, writeSection } from "./report.js";

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const TARGET_MS = 200;

function input(): IstiodInput {
  const services: KubeObject[] = [];
  const virtualServices: KubeObject[] = [];
  const destinationRules: KubeObject[] = [];
  const endpoints: IstiodInput["endpoints"][number][] = [];
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    services.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: "default", labels: { app: name } },
      spec: { selector: { app: name }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
    virtualServices.push({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name, namespace: "default" },
      spec: {
        hosts: [`${name}.example.com`],
        gateways: ["session-gateway"],
        http: [
          {
            match: [{ uri: { prefix: "/" } }],
            route: [{ destination: { host: name, port: { number: 80 } } }],
          },
        ],
      },
    });
    destinationRules.push({
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name, namespace: "default" },
      spec: {
        host: name,
        trafficPolicy: {
          loadBalancer: { consistentHash: { httpCookie: { name: "session-route", ttl: "3600s" } } },
        },
      },
    });
    endpoints.push({
      namespace: "default",
      name,
      endpoints: Array.from({ length: ENDPOINTS }, (_, j) => ({
        address: `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`,
        ports: { 80: 8080 },
        podName: `${name}-7d9f8b6c5d-p${j}`,
        labels: { app: name },
        locality: { region: "eu-west-1", zone: `eu-west-1${"abc"[j % 3]}`, subzone: "" },
      })),
    });
  }
  const gateway: KubeObject = {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: "session-gateway", namespace: "default" },
    spec: {
      selector: { istio: "ingressgateway" },
      servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
    },
  };
  return {
    services,
    gateways: [gateway],
    virtualServices,
    destinationRules,
    endpoints,
    proxy: DEFAULT_GATEWAY_PROXY,
  };
}

const times: number[] = [];
let counts = { listeners: 0, routes: 0, virtualHosts: 0, clusters: 0, endpoints: 0 };
for (let run = 0; run < RUNS + 2; run++) {
  // A new input each push, as each push of istiod reads the cluster's state anew (and nothing derived
  // from an earlier push's input may be reused).
  const data = input();
  const started = performance.now();
  const snapshot = translate(data, String(run));
  const ms = performance.now() - started;
  if (run >= 2) times.push(ms); // two warm-up pushes let the JIT settle, as a long-running istiod has
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
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] ?? Number.NaN;
const worst = times.at(-1) ?? Number.NaN;

const markdown = [
  "## istiod translation (`bench/istiod.ts`)",
  "",
  machineLine(),
  "",
  "| What | Median | Slowest | Target | Met |",
  "|---|---|---|---|---|",
  `| one full push: ${SERVICES.toLocaleString("en")} Services × ${ENDPOINTS} endpoints, each with a DestinationRule and a VirtualService | ${median.toFixed(1)} ms | ${worst.toFixed(1)} ms | ≤ ${TARGET_MS} ms | ${median <= TARGET_MS ? "met" : "missed"} |`,
  "",
  `The snapshot holds ${counts.listeners} listener, ${counts.routes} route configuration with ${counts.virtualHosts.toLocaleString("en")} virtual hosts,`,
  `${counts.clusters.toLocaleString("en")} clusters and ${counts.endpoints.toLocaleString("en")} endpoints; ${RUNS} pushes after 2 warm-up pushes, built from scratch`,
  "each time (no incremental push). The gateway does not run from this snapshot yet, so swapping it",
  "into the data plane is not part of the figure.",
].join("\n");

console.log(markdown);
await writeSection("istiod", markdown);
