import { SessionAffinityError } from "../errors.js";
import { DEFAULT_TABLE_SIZE, validateTableSize } from "../lb/maglev.js";
import { DEFAULT_MIN_RING_SIZE, validateRingSizes } from "../lb/ring-hash.js";
import { type SimulatedPolicy, simulate } from "../lb/simulate.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity simulate [options]

How many sessions move to another endpoint when pods scale, are replaced or removed?

  --sessions N           synthetic sessions (default 100000)
  --from A               replicas before (default 3)
  --to B                 replicas after scaling (default A+1)
  --lb LIST              ring-hash, maglev or both comma-separated (default ring-hash,maglev)
  --min-ring-size N      ring hash minimum ring size (default 1024, Istio's)
  --table-size N         Maglev table size, prime (default 65537)
  --seed N               seed for the sessions and the pod picked to replace/remove (default 1)
  --json                 print the results as JSON
  --help                 show this help

Columns: sessions that change endpoint, the ideal share for the scenario, and load imbalance
(max / mean sessions per endpoint after the change).`;

const OPTIONS = {
  sessions: { type: "string", default: "100000" },
  from: { type: "string", default: "3" },
  to: { type: "string" },
  lb: { type: "string", default: "ring-hash,maglev" },
  "min-ring-size": { type: "string", default: String(DEFAULT_MIN_RING_SIZE) },
  "table-size": { type: "string", default: String(DEFAULT_TABLE_SIZE) },
  seed: { type: "string", default: "1" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

function usage(message: string): SessionAffinityError {
  return new SessionAffinityError("ERR_USAGE", `simulate: ${message}`);
}

function integer(name: string, value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw usage(`--${name} ${value} is not a non-negative integer`);
  return Number(value);
}

export const simulateCommand: Command = {
  summary: "measure how many sessions move when pods scale, are replaced or removed",
  async run(argv) {
    const { values } = parseFlags("simulate", argv, OPTIONS);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const from = integer("from", values.from);
    const to = values.to === undefined ? from + 1 : integer("to", values.to);
    const minRingSize = integer("min-ring-size", values["min-ring-size"]);
    const tableSize = integer("table-size", values["table-size"]);
    const policies = values.lb.split(",") as SimulatedPolicy[];
    for (const p of policies)
      if (p !== "ring-hash" && p !== "maglev") throw usage(`--lb ${p} is not ring-hash or maglev`);
    try {
      validateRingSizes(minRingSize, Math.max(minRingSize, 8 * 1024 * 1024), "--min-ring-size");
      validateTableSize(tableSize, "--table-size");
    } catch (err) {
      throw usage((err as Error).message);
    }
    const results = simulate({
      sessions: integer("sessions", values.sessions),
      from,
      to,
      seed: integer("seed", values.seed),
      minRingSize,
      tableSize,
      policies,
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(results)}\n`);
      return 0;
    }
    const rows = [
      ["lb", "scenario", "moved", "ideal", "imbalance"],
      ...results.map((r) => [
        r.policy,
        r.scenario,
        `${r.movedPercent.toFixed(1)}%`,
        `${r.idealPercent.toFixed(1)}%`,
        r.imbalance.toFixed(3),
      ]),
    ];
    const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] as string).length))) ?? [];
    for (const row of rows) {
      process.stdout.write(
        `${row
          .map((cell, c) => cell.padEnd(widths[c] as number))
          .join("  ")
          .trimEnd()}\n`,
      );
    }
    return 0;
  },
};
