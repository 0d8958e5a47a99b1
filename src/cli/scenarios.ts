import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseOnly, scenarioMatrix } from "../check/scenario-matrix.js";
import { runScenarios } from "../check/scenarios.js";
import {
  formatScenariosJson,
  formatScenariosMarkdown,
  formatScenariosSvg,
} from "../check/scenarios-report.js";
import { SessionAffinityError } from "../errors.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity scenarios [options]

Runs on the local mesh the matrix {no rule, ring hash, Maglev, persistent session} × {memory, Redis}
× {scale 5→6, pod killed (SIGKILL), rolling restart}. Each combination gets a fresh mesh on free ports
(and a private redis-server for Redis) from the manifests in deploy/, 5 ready replicas and fresh
sessions; the check runs with the disruption at half time. Writes to the output folder:
  scenarios.md    table: % sessions moved, % state lost, failed requests, simulate's prediction
  scenarios.json  the same measurements
  scenarios.svg   chart: grouped bars per combination
Needs kubectl (kubectl kustomize renders the Maglev and persistent-session combinations) and, for
Redis, redis-server. The full matrix takes a few minutes.

options:
  --clients N        simulated clients per combination (default 20)
  --requests N       requests per client, at least 2 (default 10)
  --only LIST        comma-separated names to run only some combinations; names from one dimension
                     are alternatives, dimensions combine: policies none, ring-hash, maglev,
                     persistent-session; stores memory, redis; disruptions scale, kill-pod, rollout
                     (e.g. --only ring-hash,maglev,scale)
  --out DIR          output folder (default scenarios)
  --json             print the measurements as JSON on stdout instead of the markdown
  -h, --help         show this help

Progress goes to stderr. exit codes: 0 every combination measured, 1 one or more could not be
measured, 2 bad arguments
`;

const OPTIONS = {
  clients: { type: "string" },
  requests: { type: "string" },
  only: { type: "string" },
  out: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function count(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new SessionAffinityError(
      "ERR_USAGE",
      `scenarios: --${flag} ${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`,
    );
  }
  return n;
}

export const scenariosCommand: Command = {
  summary: "measure moves and state loss on the local mesh for each policy × store × disruption",
  async run(argv) {
    const { values, positionals } = parseFlags("scenarios", argv, OPTIONS, true);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (positionals.length > 0)
      throw new SessionAffinityError(
        "ERR_USAGE",
        `scenarios: unexpected argument ${JSON.stringify(positionals[0])}`,
      );
    const clients = count("clients", values.clients, 20, 1, 1000);
    const requests = count("requests", values.requests, 10, 2, 1000);
    const scenarios = scenarioMatrix(parseOnly(values.only));
    if (values.out === "") throw new SessionAffinityError("ERR_USAGE", "scenarios: --out needs a folder");
    const out = resolve(values.out ?? "scenarios");

    // Created first so that an unwritable folder fails now, not after minutes of measuring.
    await mkdir(out, { recursive: true }).catch((err: Error) => {
      throw new SessionAffinityError("ERR_USAGE", `scenarios: --out ${out}: ${err.message}`);
    });
    const log = (line: string) => process.stderr.write(`${line}\n`);
    log(`${scenarios.length} combinations, ${clients} clients × ${requests} requests each, output in ${out}`);
    // Ctrl-C or SIGTERM: tear the current mesh (and its redis-server) down rather than leave it behind.
    const interrupt = new AbortController();
    const onSignal = () => {
      log("interrupted: stopping the current mesh");
      interrupt.abort();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    let report: Awaited<ReturnType<typeof runScenarios>>;
    try {
      report = await runScenarios({ scenarios, clients, requests, log, signal: interrupt.signal });
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    if (interrupt.signal.aborted) return 130;
    const markdown = formatScenariosMarkdown(report);
    await writeFile(join(out, "scenarios.md"), markdown);
    await writeFile(join(out, "scenarios.json"), formatScenariosJson(report));
    await writeFile(join(out, "scenarios.svg"), formatScenariosSvg(report));
    log(`wrote scenarios.md, scenarios.json and scenarios.svg to ${out}`);
    process.stdout.write(values.json ? formatScenariosJson(report) : markdown);
    return report.results.some((r) => r.error) ? 1 : 0;
  },
};
