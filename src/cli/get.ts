import { SessionAffinityError } from "../errors.js";
import { ControlClient, DEFAULT_ADMIN_URL } from "../mesh/control-client.js";
import { RESOURCE_ALIASES, renderResource } from "../mesh/tables.js";
import type { ResourceViews } from "../mesh/views.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity get RESOURCE [NAME...] [-n NS | -A] [-o json] [--admin URL]

Lists objects of the running local mesh with kubectl's columns.

  RESOURCE            pods (po), deployments (deploy), services (svc), gateways (gw),
                      virtualservices (vs), destinationrules (dr), endpoints (ep)
  -n, --namespace NS  namespace (default default)
  -A, --all-namespaces
  -o, --output json   the control API's JSON instead of a table
  --admin URL         the mesh's admin API (default ${DEFAULT_ADMIN_URL})
  --help              show this help`;

const OPTIONS = {
  namespace: { type: "string", short: "n", default: "default" },
  "all-namespaces": { type: "boolean", short: "A", default: false },
  output: { type: "string", short: "o" },
  admin: { type: "string", default: DEFAULT_ADMIN_URL },
  help: { type: "boolean", default: false },
} as const;

export const getCommand: Command = {
  summary: "list objects of the running local mesh (kubectl get)",
  async run(argv) {
    const { values, positionals } = parseFlags("get", argv, OPTIONS, true);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const [requested, ...names] = positionals;
    if (requested === undefined)
      throw new SessionAffinityError("ERR_USAGE", "get: name a resource type, e.g. get pods");
    const resource = RESOURCE_ALIASES[requested.toLowerCase()];
    if (!resource) {
      throw new SessionAffinityError(
        "ERR_USAGE",
        `get: the server doesn't have a resource type "${requested}"`,
      );
    }
    if (values.output !== undefined && values.output !== "json") {
      throw new SessionAffinityError("ERR_USAGE", `get: -o ${values.output} is not supported (json)`);
    }
    const client = new ControlClient(values.admin);
    const { now, items } = await client.resource(resource);
    const all = values["all-namespaces"];
    const selected = (items as { name: string; namespace: string }[]).filter(
      (i) => (all || i.namespace === values.namespace) && (names.length === 0 || names.includes(i.name)),
    );
    const missing = names.filter((n) => !selected.some((i) => i.name === n));
    if (values.output === "json") {
      process.stdout.write(`${JSON.stringify({ items: selected }, null, 2)}\n`);
    } else if (selected.length > 0) {
      const views = { [resource]: selected } as unknown as ResourceViews;
      process.stdout.write(renderResource(resource, views, now));
    } else if (names.length === 0) {
      process.stderr.write(
        all ? "No resources found\n" : `No resources found in ${values.namespace} namespace.\n`,
      );
    }
    for (const name of missing)
      process.stderr.write(`Error from server (NotFound): ${resource} "${name}" not found\n`);
    return missing.length > 0 ? 1 : 0;
  },
};
