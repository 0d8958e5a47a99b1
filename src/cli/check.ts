import { analyze } from "../check/analyze.js";
import type { JarMode } from "../check/cookie-jar.js";
import { meshDisruption } from "../check/mesh-disruption.js";
import { formatReport } from "../check/report.js";
import { type Disruption, runCheck } from "../check/run-check.js";
import { shellDisruption } from "../check/shell-disruption.js";
import { SessionAffinityError } from "../errors.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity check URL [options]

Sends the walkthrough's curl experiment to URL (a cluster's ingress or the local mesh, e.g.
http://127.0.0.1:8080/user): C clients, each with its own cookie jar and connection, send R requests;
reports which pods answered, whether each client stayed on one pod (stickiness) and whether its counter
went up by one each time (continuity), and what that means.

options:
  --clients N            simulated clients (default 10)
  --requests N           requests per client (default 10)
  --concurrency N        clients sending at the same time (default 10)
  --timeout MS           per-request timeout (default 5000)
  --jar browser|frozen   browser: every Set-Cookie updates the jar (curl -c jar -b jar);
                         frozen: keep the first response's cookies only (the walkthrough's curl -c, then -b)
  --header NAME=VALUE    send a header; {client} in VALUE becomes the client's number (repeatable)
  --insecure             accept any TLS certificate
  --during "COMMAND"     run a shell command when half the requests are done, then report moves and losses
  --scale N              local mesh: scale session-deployment to N replicas at half time, wait until ready
  --kill-pod             local mesh: SIGKILL one session-deployment pod at half time, wait for its replacement
  --rollout              local mesh: rolling restart of session-deployment at half time, wait until done
  --admin URL            the local mesh's admin API (default http://127.0.0.1:15000)
  --expect sticky|spread exit 1 unless affinity is on (sticky) or off (spread)
  --expect-continuous    exit 1 unless session state is kept
  --json                 print the measurements as JSON
  -h, --help             show this help

exit codes: 0 done (and expectations met), 1 an expectation not met or no answer at all, 2 bad arguments
`;

const OPTIONS = {
  clients: { type: "string" },
  requests: { type: "string" },
  concurrency: { type: "string" },
  timeout: { type: "string" },
  jar: { type: "string" },
  header: { type: "string", multiple: true },
  insecure: { type: "boolean" },
  during: { type: "string" },
  scale: { type: "string" },
  "kill-pod": { type: "boolean" },
  rollout: { type: "boolean" },
  admin: { type: "string" },
  expect: { type: "string" },
  "expect-continuous": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function count(flag: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) {
    throw new SessionAffinityError(
      "ERR_USAGE",
      `check: --${flag} ${JSON.stringify(raw)} must be a whole number from 1 to ${max}`,
    );
  }
  return n;
}

function targetUrl(raw: string | undefined): string {
  if (raw === undefined)
    throw new SessionAffinityError("ERR_USAGE", "check: a URL is required, e.g. http://127.0.0.1:8080/user");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SessionAffinityError("ERR_USAGE", `check: URL ${JSON.stringify(raw)} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SessionAffinityError(
      "ERR_USAGE",
      `check: URL ${JSON.stringify(raw)} must be http:// or https://`,
    );
  }
  if (url.pathname === "/") url.pathname = "/user";
  return url.toString();
}

function headers(pairs: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    if (eq < 1 || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
      throw new SessionAffinityError(
        "ERR_USAGE",
        `check: --header ${JSON.stringify(pair)} must be NAME=VALUE`,
      );
    }
    out[name.toLowerCase()] = pair.slice(eq + 1);
  }
  return out;
}

function progress(json: boolean): ((done: number, total: number) => void) | undefined {
  if (json) return undefined;
  if (process.stderr.isTTY) {
    return (done, total) => {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(
        `\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}${done === total ? "\n" : ""}`,
      );
    };
  }
  let shown = 0;
  return (done, total) => {
    const quarter = Math.floor((done / total) * 4);
    if (quarter > shown) {
      shown = quarter;
      process.stderr.write(`${done}/${total} requests\n`);
    }
  };
}

export const checkCommand: Command = {
  summary: "measure stickiness and session continuity at a URL, optionally across a disruption",
  async run(argv) {
    const { values, positionals } = parseFlags("check", argv, OPTIONS, true);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (positionals.length > 1)
      throw new SessionAffinityError(
        "ERR_USAGE",
        `check: unexpected argument ${JSON.stringify(positionals[1])}`,
      );
    const url = targetUrl(positionals[0]);
    const jar = (values.jar ?? "browser") as JarMode;
    if (jar !== "browser" && jar !== "frozen") {
      throw new SessionAffinityError(
        "ERR_USAGE",
        `check: --jar ${JSON.stringify(values.jar)} must be browser or frozen`,
      );
    }
    if (values.expect !== undefined && values.expect !== "sticky" && values.expect !== "spread") {
      throw new SessionAffinityError(
        "ERR_USAGE",
        `check: --expect ${JSON.stringify(values.expect)} must be sticky or spread`,
      );
    }

    const chosen = [
      values.during !== undefined,
      values.scale !== undefined,
      values["kill-pod"],
      values.rollout,
    ];
    if (chosen.filter(Boolean).length > 1) {
      throw new SessionAffinityError(
        "ERR_USAGE",
        "check: choose one of --during, --scale, --kill-pod, --rollout",
      );
    }
    const log = (line: string) => process.stderr.write(`${line}\n`);
    let disruption: Disruption | undefined;
    if (values.during !== undefined) disruption = shellDisruption(values.during, log);
    else if (values.scale !== undefined)
      disruption = meshDisruption(values.admin, { scale: count("scale", values.scale, 1, 1000) });
    else if (values["kill-pod"]) disruption = meshDisruption(values.admin, { killPod: true });
    else if (values.rollout) disruption = meshDisruption(values.admin, { rollout: true });

    const options = {
      url,
      clients: count("clients", values.clients, 10, 100_000),
      requests: count("requests", values.requests, 10, 10_000),
      concurrency: count("concurrency", values.concurrency, 10, 10_000),
      timeoutMs: count("timeout", values.timeout, 5000, 600_000),
      jar,
      headers: headers(values.header),
      insecure: values.insecure ?? false,
      ...(disruption ? { disruption } : {}),
    };
    const onProgress = progress(values.json ?? false);
    const records = await runCheck(onProgress ? { ...options, onProgress } : options);
    const summary = analyze(records, disruption?.label);

    const unmet: string[] = [];
    if (summary.succeeded === 0) unmet.push("no request was answered");
    if (values.expect === "sticky" && summary.affinity !== "on")
      unmet.push(`expected sticky, affinity is ${summary.affinity}`);
    if (values.expect === "spread" && summary.affinity !== "off")
      unmet.push(`expected spread, affinity is ${summary.affinity}`);
    if (values["expect-continuous"] && summary.state !== "kept")
      unmet.push(`expected continuous, session state is ${summary.state}`);

    if (values.json) {
      process.stdout.write(`${JSON.stringify({ url, jar, ...summary, unmet }, null, 2)}\n`);
    } else {
      const heading = `check ${url}: ${options.clients} clients × ${options.requests} requests, ${jar} cookie jar`;
      process.stdout.write(formatReport(summary, heading));
      for (const line of unmet) process.stdout.write(`NOT MET: ${line}\n`);
    }
    return unmet.length > 0 ? 1 : 0;
  },
};
