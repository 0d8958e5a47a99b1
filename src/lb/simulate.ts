/**
 * How many sessions move when the endpoint set changes, for the hashing balancers. Sessions are
 * synthetic cookie values (hex16 of a seeded 64-bit draw, like generated cookies) hashed exactly as
 * the cookie hash policy would; each is looked up before and after the change.
 */
import { SessionAffinityError } from "../errors.js";
import type { Endpoint } from "./endpoint.js";
import { MaglevLoadBalancer } from "./maglev.js";
import { seededRandom } from "./random-source.js";
import { RingHashLoadBalancer } from "./ring-hash.js";
import { modUint64, splitUint64, toHex16 } from "./uint64.js";
import { xxh64 } from "./xxhash64.js";

export type SimulatedPolicy = "ring-hash" | "maglev";
export type ScenarioKind = "scale" | "replace" | "remove";

export interface SimulationOptions {
  readonly sessions: number;
  readonly from: number;
  readonly to: number;
  readonly seed: number;
  readonly minRingSize: number;
  readonly maxRingSize?: number;
  readonly tableSize: number;
  readonly policies: readonly SimulatedPolicy[];
}

export interface ScenarioResult {
  readonly policy: SimulatedPolicy;
  readonly scenario: string;
  readonly moved: number;
  readonly movedPercent: number;
  readonly idealPercent: number;
  /** max / mean sessions per endpoint after the change. */
  readonly imbalance: number;
}

const podAddress = (i: number) => `10.244.${Math.floor(i / 250)}.${(i % 250) + 2}:8080`;
const pods = (n: number, offset = 0): Endpoint[] =>
  Array.from({ length: n }, (_, i) => ({ address: podAddress(i + offset), weight: 1 }));

interface Scenario {
  readonly name: string;
  readonly before: Endpoint[];
  readonly after: Endpoint[];
  readonly ideal: number;
}

function scenarios(from: number, to: number, pick: number): Scenario[] {
  const base = pods(from);
  const victim = pick % from;
  const replaced = base.map((e, i) => (i === victim ? { address: podAddress(1000 + victim), weight: 1 } : e));
  const list: Scenario[] = [
    {
      name: `scale ${from}→${to}`,
      before: base,
      after: pods(to),
      ideal: Math.abs(to - from) / Math.max(from, to),
    },
    { name: "replace one pod", before: base, after: replaced, ideal: 1 / from },
  ];
  if (from > 1) {
    list.push({
      name: "remove one pod",
      before: base,
      after: base.filter((_, i) => i !== victim),
      ideal: 1 / from,
    });
  }
  return list;
}

/** Builds a balancer and returns a fast "hash halves → endpoint address" lookup. */
function lookup(policy: SimulatedPolicy, endpoints: Endpoint[], options: SimulationOptions) {
  if (policy === "ring-hash") {
    const lb = new RingHashLoadBalancer(endpoints, {
      minRingSize: options.minRingSize,
      ...(options.maxRingSize === undefined ? {} : { maxRingSize: options.maxRingSize }),
    });
    return (high: number, low: number) => lb.hostAt(lb.indexFor(high, low));
  }
  const lb = new MaglevLoadBalancer(endpoints, { tableSize: options.tableSize });
  return (high: number, low: number) => lb.hostAtSlot(modUint64(high, low, options.tableSize));
}

export function validateSimulation(options: SimulationOptions, field = "simulate"): void {
  const positive: [string, number][] = [
    ["--sessions", options.sessions],
    ["--from", options.from],
    ["--to", options.to],
  ];
  for (const [flag, value] of positive) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SessionAffinityError("ERR_USAGE", `${field}: ${flag} ${value} must be a positive integer`);
    }
  }
  if (options.from > 1000 || options.to > 1000) {
    throw new SessionAffinityError("ERR_USAGE", `${field}: --from/--to above 1000 pods are not simulated`);
  }
}

export function simulate(options: SimulationOptions): ScenarioResult[] {
  validateSimulation(options);
  const random = seededRandom(options.seed);
  const high = new Uint32Array(options.sessions);
  const low = new Uint32Array(options.sessions);
  for (let i = 0; i < options.sessions; i++) {
    const [h, l] = splitUint64(xxh64(toHex16(random())));
    high[i] = h;
    low[i] = l;
  }
  const pick = Number(random() % 1000n);
  const results: ScenarioResult[] = [];
  for (const policy of options.policies) {
    for (const scenario of scenarios(options.from, options.to, pick)) {
      const before = lookup(policy, scenario.before, options);
      const after = lookup(policy, scenario.after, options);
      const counts = new Uint32Array(scenario.after.length);
      let moved = 0;
      for (let i = 0; i < options.sessions; i++) {
        const h = high[i] as number;
        const l = low[i] as number;
        const a = after(h, l);
        counts[a] = (counts[a] as number) + 1;
        if ((scenario.before[before(h, l)] as Endpoint).address !== (scenario.after[a] as Endpoint).address)
          moved++;
      }
      const mean = options.sessions / scenario.after.length;
      results.push({
        policy,
        scenario: scenario.name,
        moved,
        movedPercent: (100 * moved) / options.sessions,
        idealPercent: 100 * scenario.ideal,
        imbalance: Math.max(...counts) / mean,
      });
    }
  }
  return results;
}
