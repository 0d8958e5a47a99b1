import { SessionAffinityError } from "../errors.js";
import { ControlClient, DEFAULT_ADMIN_URL, manifestFiles } from "../mesh/control-client.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity delete -f FILE [--admin URL]
       session-affinity delete pod NAME [NAME...] [--wait=false] [--admin URL]

Deletes objects from the running local mesh, like kubectl delete. A file is deleted whole or, when
one of its objects is not applied, not at all. A deleted pod terminates gracefully (its endpoint
first) and its ReplicaSet replaces it.

  -f, --filename PATH   a manifest file, a folder of them, or - for standard input
  --wait BOOL           wait until deleted pods are gone (default true)
  -n, --namespace NS    namespace of the pods (default default)
  --admin URL           the mesh's admin API (default ${DEFAULT_ADMIN_URL})
  --help                show this help`;

const OPTIONS = {
  filename: { type: "string", short: "f", multiple: true },
  wait: { type: "string", default: "true" },
  namespace: { type: "string", short: "n", default: "default" },
  admin: { type: "string", default: DEFAULT_ADMIN_URL },
  help: { type: "boolean", default: false },
} as const;

export const deleteCommand: Command = {
  summary: "delete manifests' objects or pods from the running local mesh",
  async run(argv) {
    const { values, positionals } = parseFlags("delete", argv, OPTIONS, true);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (values.wait !== "true" && values.wait !== "false") {
      throw new SessionAffinityError("ERR_USAGE", `delete: --wait=${values.wait} must be true or false`);
    }
    const client = new ControlClient(values.admin);
    if (values.filename && values.filename.length > 0) {
      if (positionals.length > 0) {
        throw new SessionAffinityError(
          "ERR_USAGE",
          `delete: unexpected argument '${positionals[0]}' with -f`,
        );
      }
      for (const { file, text } of await manifestFiles(values.filename)) {
        const { objects } = await client.delete(file, text);
        for (const o of objects) {
          const [kind, name] = o.resource.split("/") as [string, string];
          process.stdout.write(`${kind} "${name}" deleted\n`);
        }
      }
      return 0;
    }
    const [kind, ...rest] = positionals;
    const names = kind?.includes("/") ? [kind.split("/")[1] ?? "", ...rest] : rest;
    const podKind = kind?.split("/")[0];
    if (podKind === undefined || !["pod", "pods", "po"].includes(podKind)) {
      throw new SessionAffinityError("ERR_USAGE", "delete: use -f FILE or pod NAME");
    }
    if (names.length === 0 || names.includes(""))
      throw new SessionAffinityError("ERR_USAGE", "delete pod: NAME is required");
    for (const name of names) {
      await client.deletePod(name, { namespace: values.namespace, wait: values.wait === "true" });
      process.stdout.write(`pod "${name}" deleted\n`);
    }
    return 0;
  },
};
