/**
 * `explain`: reads a proxy's configuration (a saved dump, a live Envoy admin, a pod through kubectl, or
 * the local mesh) and reports why affinity holds or breaks and where sessions land. Input only here;
 * the diagnosis is src/explain.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { SessionAffinityError } from "../errors.js";
import { explain } from "../explain/index.js";
import { proxyView } from "../explain/proxy-view.js";
import { explainText } from "../explain/report.js";
import { DEFAULT_ADMIN_URL } from "../mesh/control-client.js";
import {
  type ClusterStatuses,
  parseJson,
  toClusterStatuses,
  toConfigDump,
} from "../proxy-config/config-dump.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const run = promisify(execFile);

const HELP = `usage: session-affinity explain [input] [request] [placement] [--json] [--expect VERDICT]

Says whether a proxy's configuration keeps sessions on one pod, why not, and where they land.

input (one of; default: the local mesh started by \`up\`)
  --config-dump FILE   istioctl proxy-config all POD -o json, Envoy's /config_dump?include_eds, or the
                       local mesh's (- for stdin)
  --clusters FILE      Envoy's /clusters?format=json, for outlier ejections (optional)
  --admin URL          a live Envoy admin (e.g. through kubectl port-forward POD 15000), read once
  --pod NAME           fetched with kubectl exec from the pod's istio-proxy container
  -n, --namespace NS   the pod's namespace (default: kubectl's)
  --context CTX        the kubectl context
request (default: every route of every listener)
  --host H  --path P  --method M  --header NAME=VALUE  --cookie NAME=VALUE  --source-ip IP  --port N
  --app-cookie NAME    a cookie the application itself sets (repeatable)
  --replicas N         how many proxies like this one serve the traffic (gateway replicas)
placement
  --key VALUE          a value of the hashed input (cookie, header, source IP, query); repeatable
  --sessions N         N synthetic sessions: how they spread over the hosts
  --scale-to N, --add N, --remove ADDR    the sessions such a change of the hosts moves
output
  --json               the report as JSON (schema session-affinity.explain/v1, docs/explain.md)
  --expect VERDICT     sticky, sticky-with-caveats or not-sticky: exit 1 when the verdict differs`;

const OPTIONS = {
  "config-dump": { type: "string" },
  clusters: { type: "string" },
  admin: { type: "string" },
  pod: { type: "string" },
  namespace: { type: "string", short: "n" },
  context: { type: "string" },
  host: { type: "string" },
  path: { type: "string" },
  method: { type: "string" },
  header: { type: "string", multiple: true },
  cookie: { type: "string", multiple: true },
  "source-ip": { type: "string" },
  port: { type: "string" },
  "app-cookie": { type: "string", multiple: true },
  replicas: { type: "string" },
  key: { type: "string", multiple: true },
  sessions: { type: "string" },
  "scale-to": { type: "string" },
  add: { type: "string" },
  remove: { type: "string", multiple: true },
  json: { type: "boolean", default: false },
  expect: { type: "string" },
  help: { type: "boolean", default: false },
} as const;

const usage = (message: string) => new SessionAffinityError("ERR_USAGE", `explain: ${message}`);

function count(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw usage(`--${flag} ${value}: must be a whole number ≥ ${min}`);
  return n;
}

function pair(flag: string, value: string): [string, string] {
  const eq = value.indexOf("=");
  if (eq <= 0) throw usage(`--${flag} ${value}: expected NAME=VALUE`);
  return [value.slice(0, eq), value.slice(eq + 1)];
}

async function readInput(file: string, flag: string): Promise<string> {
  if (file !== "-") {
    return readFile(file, "utf8").catch((err: Error) => {
      throw usage(`--${flag} ${file}: ${err.message}`);
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function adminGet(base: string, path: string, local: boolean): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${base.replace(/\/$/, "")}${path}`, { signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const hint = local
      ? " (start the local mesh with `session-affinity up`, or pass --config-dump, --admin or --pod)"
      : "";
    throw new SessionAffinityError("ERR_USAGE", `explain: no Envoy admin answers at ${base}${hint}`, {
      cause: err,
    });
  }
  const text = await response.text();
  if (!response.ok)
    throw new SessionAffinityError("ERR_USAGE", `explain: GET ${base}${path}: HTTP ${response.status}`);
  return text;
}

async function kubectlRequest(
  pod: string,
  ns: string | undefined,
  context: string | undefined,
  path: string,
) {
  const args = [
    ...(context ? ["--context", context] : []),
    ...(ns ? ["-n", ns] : []),
    "exec",
    pod,
    "-c",
    "istio-proxy",
    "--",
    "pilot-agent",
    "request",
    "GET",
    path,
  ];
  try {
    return (await run("kubectl", args, { maxBuffer: 1024 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw usage("--pod needs kubectl on the PATH, and it is not there");
    const reason = (e.stderr ?? e.message).trim().split("\n")[0];
    throw usage(`--pod ${pod}: kubectl exec into its istio-proxy container failed: ${reason}`);
  }
}

async function load(
  values: Record<string, unknown>,
): Promise<{ dump: string; clusters?: string; source: string }> {
  const chosen = ["config-dump", "admin", "pod"].filter((k) => values[k] !== undefined);
  if (chosen.length > 1) throw usage(`--${chosen.join(" and --")}: give one input`);
  const file = values["config-dump"] as string | undefined;
  if (file !== undefined) {
    const clusters = values.clusters as string | undefined;
    return {
      dump: await readInput(file, "config-dump"),
      ...(clusters ? { clusters: await readInput(clusters, "clusters") } : {}),
      source: file === "-" ? "<stdin>" : file,
    };
  }
  const pod = values.pod as string | undefined;
  if (pod !== undefined) {
    const ns = values.namespace as string | undefined;
    const ctx = values.context as string | undefined;
    return {
      dump: await kubectlRequest(pod, ns, ctx, "config_dump?include_eds"),
      clusters: await kubectlRequest(pod, ns, ctx, "clusters?format=json"),
      source: `pod ${ns ? `${ns}/` : ""}${pod}`,
    };
  }
  const admin = (values.admin as string | undefined) ?? DEFAULT_ADMIN_URL;
  const local = values.admin === undefined;
  return {
    dump: await adminGet(admin, "/config_dump?include_eds", local),
    clusters: await adminGet(admin, "/clusters?format=json", local),
    source: admin,
  };
}

const VERDICTS = ["sticky", "sticky-with-caveats", "not-sticky"];

export const explainCommand: Command = {
  summary: "why affinity holds or breaks on a proxy, and where each session lands",
  async run(argv) {
    const { values } = parseFlags("explain", argv, OPTIONS);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (values.expect !== undefined && !VERDICTS.includes(values.expect))
      throw usage(`--expect ${values.expect}: one of ${VERDICTS.join(", ")}`);
    const port = count("port", values.port);
    const replicas = count("replicas", values.replicas, 1);
    const sessions = count("sessions", values.sessions);
    const scaleTo = count("scale-to", values["scale-to"], 1);
    const add = count("add", values.add, 1);
    const headers = (values.header ?? [])
      .map((h) => pair("header", h))
      .map(([k, v]) => [k.toLowerCase(), v] as [string, string]);
    const cookies = (values.cookie ?? []).map((c) => pair("cookie", c).join("="));
    if (cookies.length > 0) headers.push(["cookie", cookies.join("; ")]);
    const asked =
      values.host !== undefined ||
      values.path !== undefined ||
      headers.length > 0 ||
      values["source-ip"] !== undefined;
    const input = await load(values);
    const dump = toConfigDump(parseJson(input.dump, input.source), input.source);
    let statuses: ClusterStatuses | undefined;
    if (input.clusters !== undefined) {
      const source = values.clusters ?? `${input.source} /clusters?format=json`;
      statuses = toClusterStatuses(parseJson(input.clusters, source), source);
    }
    const change =
      scaleTo !== undefined || add !== undefined || (values.remove ?? []).length > 0
        ? {
            ...(scaleTo === undefined ? {} : { scaleTo }),
            ...(add === undefined ? {} : { add }),
            ...(values.remove ? { remove: values.remove } : {}),
          }
        : undefined;
    const placing = (values.key ?? []).length > 0 || sessions !== undefined || change !== undefined;
    const report = explain(proxyView(dump, statuses, replicas), {
      ...(asked
        ? {
            request: {
              authority: values.host ?? "*",
              path: values.path ?? "/",
              method: values.method ?? "GET",
              headers,
              ...(values["source-ip"] ? { sourceIp: values["source-ip"] } : {}),
            },
          }
        : {}),
      ...(port === undefined ? {} : { port }),
      appCookies: values["app-cookie"] ?? [],
      ...(placing
        ? {
            placement: {
              keys: values.key ?? [],
              sessions: sessions ?? (change ? 10_000 : 0),
              ...(change ? { change } : {}),
            },
          }
        : {}),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : explainText(report));
    return values.expect !== undefined && report.verdict !== values.expect ? 1 : 0;
  },
};
