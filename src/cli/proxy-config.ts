/**
 * `proxy-config`: istioctl's proxy-config commands (istio/istio istioctl/pkg/proxyconfig/proxyconfig.go)
 * for the local mesh's gateway, read from its admin port, or for any Envoy's saved dump.
 */
import { readFile } from "node:fs/promises";
import { SessionAffinityError } from "../errors.js";
import { ControlClient, DEFAULT_ADMIN_URL } from "../mesh/control-client.js";
import {
  type ClusterStatuses,
  type ConfigDump,
  isClusterStatuses,
  parseJson,
  toClusterStatuses,
  toConfigDump,
} from "../proxy-config/config-dump.js";
import { edsJson, edsTable, endpointsJson, endpointsTable } from "../proxy-config/endpoints.js";
import { allJson, allSummary } from "../proxy-config/summary.js";
import {
  clustersJson,
  clustersTable,
  listenersJson,
  listenersTable,
  routesJson,
  routesTable,
} from "../proxy-config/tables.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity proxy-config TYPE [--file FILE] [-o json] [filters] [--admin URL]

Shows the gateway's Envoy configuration with istioctl proxy-config's columns, read from the local
mesh's GET /config_dump?include_eds=true, or from a saved config dump of any Envoy (--file).

  TYPE                clusters (cluster, c), listeners (listener, l), routes (route, r),
                      endpoints (endpoint, ep), eds, all (a)
  -f, --file FILE     a saved /config_dump?include_eds=true (- for stdin); for endpoints also a saved
                      /clusters?format=json, which istioctl reads for its OUTLIER CHECK column
  -o, --output FMT    short (tables, the default) or json (the resources, as istioctl -o json)
  --json              the same as -o json
  --fqdn S, --subset S, --direction D, --port N     clusters (and all)
  --address A, --port N, --type T                   listeners (and all)
  --name N                                          routes (and all)
  --address A, --port N, --cluster C, --status S    endpoints, eds (all: --address, --port)
  --with-headers      all: a ------ TITLE ------ line before each section
  --admin URL         the mesh's admin API (default ${DEFAULT_ADMIN_URL})
  --help              show this help`;

const OPTIONS = {
  file: { type: "string", short: "f" },
  output: { type: "string", short: "o" },
  json: { type: "boolean", default: false },
  fqdn: { type: "string" },
  subset: { type: "string" },
  direction: { type: "string" },
  port: { type: "string" },
  address: { type: "string" },
  type: { type: "string" },
  name: { type: "string" },
  cluster: { type: "string" },
  status: { type: "string" },
  "with-headers": { type: "boolean", default: false },
  admin: { type: "string", default: DEFAULT_ADMIN_URL },
  help: { type: "boolean", default: false },
} as const;

type Flag = keyof typeof OPTIONS;
const FILTER_FLAGS = [
  "fqdn",
  "subset",
  "direction",
  "port",
  "address",
  "type",
  "name",
  "cluster",
  "status",
  "with-headers",
] as const satisfies readonly Flag[];
type Kind = "clusters" | "listeners" | "routes" | "endpoints" | "eds" | "all";

const KINDS: Readonly<Record<string, Kind>> = {
  clusters: "clusters",
  cluster: "clusters",
  c: "clusters",
  listeners: "listeners",
  listener: "listeners",
  l: "listeners",
  routes: "routes",
  route: "routes",
  r: "routes",
  endpoints: "endpoints",
  endpoint: "endpoints",
  ep: "endpoints",
  eds: "eds",
  all: "all",
  a: "all",
};

/** The filters istioctl defines on each subcommand; any other is an unknown flag there. */
const FILTERS: Readonly<Record<Kind, readonly Flag[]>> = {
  clusters: ["fqdn", "subset", "direction", "port"],
  listeners: ["address", "port", "type"],
  routes: ["name"],
  endpoints: ["address", "port", "cluster", "status"],
  eds: ["address", "port", "cluster", "status"],
  all: ["fqdn", "subset", "direction", "port", "address", "type", "name", "with-headers"],
};

const usage = (message: string) => new SessionAffinityError("ERR_USAGE", `proxy-config: ${message}`);

async function readInput(file: string): Promise<string> {
  if (file !== "-") {
    return readFile(file, "utf8").catch((err: Error) => {
      throw usage(`--file ${file}: ${err.message}`);
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * GETs an Envoy admin endpoint of the local mesh (open on loopback, as Envoy's admin is); an
 * `optional` one answers undefined when the admin does not serve it.
 */
async function adminGet(client: ControlClient, path: string, optional = false): Promise<string | undefined> {
  let response: Response;
  try {
    response = await fetch(`${client.baseUrl}${path}`);
  } catch (err) {
    throw new SessionAffinityError(
      "ERR_RUNTIME",
      `no local mesh answers at ${client.baseUrl} (start one with \`session-affinity up\`, or pass --admin URL)`,
      { cause: err },
    );
  }
  const text = await response.text();
  if (response.ok) return text;
  if (optional) return undefined;
  throw new SessionAffinityError("ERR_RUNTIME", `GET ${client.baseUrl}${path}: HTTP ${response.status}`);
}

/** What the mesh sent is its fault, not the caller's: the same message, as a runtime error. */
function asRuntime<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof SessionAffinityError && err.isUserError)
      throw new SessionAffinityError("ERR_RUNTIME", err.message, { cause: err });
    throw err;
  }
}

interface Filters {
  readonly fqdn?: string;
  readonly subset?: string;
  readonly direction?: string;
  readonly port?: number;
  readonly address?: string;
  readonly type?: string;
  readonly name?: string;
  readonly cluster?: string;
  readonly status?: string;
}

function render(kind: Exclude<Kind, "all">, input: ConfigDump | ClusterStatuses, json: boolean, f: Filters) {
  if (kind === "endpoints") return json ? endpointsJson(input, f) : endpointsTable(input, f);
  if ("clusterStatuses" in input) throw usage(`${kind}: needs a config dump, not a /clusters answer`);
  switch (kind) {
    case "clusters":
      return json ? clustersJson(input, f) : clustersTable(input, f);
    case "listeners":
      return json ? listenersJson(input, f) : listenersTable(input, f);
    case "routes":
      return json ? routesJson(input, f) : routesTable(input, f);
    case "eds":
      return json ? edsJson(input, f) : edsTable(input, f);
  }
}

/** The clusters answer if the admin gives one in Envoy's JSON (the local mesh may not). */
async function meshClusterStatuses(client: ControlClient): Promise<ClusterStatuses | undefined> {
  const body = await adminGet(client, "/clusters?format=json", true);
  let value: unknown;
  try {
    value = JSON.parse(body ?? "");
  } catch {
    return undefined;
  }
  return isClusterStatuses(value) ? toClusterStatuses(value, "GET /clusters?format=json") : undefined;
}

export const proxyConfigCommand: Command = {
  summary: "show the gateway's Envoy configuration (istioctl proxy-config)",
  async run(argv) {
    const { values, positionals } = parseFlags("proxy-config", argv, OPTIONS, true);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const [requested, ...extra] = positionals;
    if (requested === undefined) throw usage("name a type, e.g. proxy-config clusters");
    const kind = KINDS[requested.toLowerCase()];
    if (!kind) throw usage(`unknown type "${requested}" (clusters, listeners, routes, endpoints, eds, all)`);
    if (extra.length > 0)
      throw usage(
        `unexpected argument '${extra[0]}' (the local mesh has one gateway; --file reads a saved dump)`,
      );
    for (const flag of FILTER_FLAGS) {
      if (values[flag] !== undefined && values[flag] !== false && !FILTERS[kind].includes(flag))
        throw usage(`${kind}: unknown flag --${flag}`);
    }
    const output = values.json ? "json" : (values.output ?? "short");
    if (output !== "json" && output !== "short")
      throw usage(`output format "${output}" not supported (short, json)`);
    let port: number | undefined;
    if (values.port !== undefined) {
      if (!/^\d+$/.test(values.port) || Number(values.port) > 0xffffffff)
        throw usage(`--port ${values.port}: not a port number`);
      port = Number(values.port);
    }
    const filters: Filters = { ...values, port };
    const json = output === "json";

    // A saved file is the caller's input (bad content exits 2); what the mesh sends is the mesh's fault.
    const fromFile = values.file !== undefined;
    const check = fromFile ? <T>(read: () => T): T => read() : asRuntime;
    let raw = "";
    let input: ConfigDump | ClusterStatuses | undefined;
    if (fromFile) {
      const source = `--file ${values.file}`;
      raw = await readInput(values.file ?? "-");
      const parsed = parseJson(raw, source);
      if (kind === "endpoints" && isClusterStatuses(parsed)) input = toClusterStatuses(parsed, source);
      else input = toConfigDump(parsed, source);
    } else {
      const client = new ControlClient(values.admin);
      // istioctl reads /clusters for this table; without it, the dump's EDS section stands in.
      if (kind === "endpoints") input = await meshClusterStatuses(client);
      if (!input) {
        const path = "/config_dump?include_eds=true";
        const source = `GET ${client.baseUrl}${path}`;
        raw = (await adminGet(client, path)) ?? "";
        input = asRuntime(() => toConfigDump(parseJson(raw, source), source));
      }
    }

    if (kind !== "all") {
      const dumpOrClusters = input;
      process.stdout.write(check(() => render(kind, dumpOrClusters, json, filters)));
      return 0;
    }
    if (json) {
      process.stdout.write(allJson(raw));
      return 0;
    }
    if ("clusterStatuses" in input) throw usage("all: needs a config dump");
    const { text, error } = allSummary(input, {
      clusters: filters,
      listeners: filters,
      routes: filters,
      // istioctl's `all` passes --address and --port on to the endpoints section too.
      endpoints: { address: filters.address, port },
      withHeaders: values["with-headers"],
      now: Date.now(),
    });
    process.stdout.write(text);
    if (error)
      throw fromFile ? error : new SessionAffinityError("ERR_RUNTIME", error.message, { cause: error });
    return 0;
  },
};
