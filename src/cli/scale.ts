import { SessionAffinityError } from "../errors.js";
import { ControlClient, DEFAULT_ADMIN_URL, deploymentRef } from "../mesh/control-client.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity scale deployment/NAME --replicas=N [--admin URL]

Sets a Deployment's replicas in the running local mesh (also deployment.v1.apps/NAME).

  --replicas N        the new number of pods
  -n, --namespace NS  namespace (default default)
  --admin URL         the mesh's admin API (default ${DEFAULT_ADMIN_URL})
  --help              show this help`;

const OPTIONS = {
  replicas: { type: "string" },
  namespace: { type: "string", short: "n", default: "default" },
  admin: { type: "string", default: DEFAULT_ADMIN_URL },
  help: { type: "boolean", default: false },
} as const;

export const scaleCommand: Command = {
  summary: "set a Deployment's replicas in the running local mesh (kubectl scale)",
  async run(argv) {
    const { values, positionals } = parseFlags("scale", argv, OPTIONS, true);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const name = deploymentRef(positionals, "scale");
    if (values.replicas === undefined)
      throw new SessionAffinityError("ERR_USAGE", "scale: --replicas=N is required");
    if (!/^\d+$/.test(values.replicas)) {
      throw new SessionAffinityError(
        "ERR_USAGE",
        `scale: --replicas=${values.replicas} is not a non-negative integer`,
      );
    }
    const result = await new ControlClient(values.admin).scale(
      name,
      Number(values.replicas),
      values.namespace,
    );
    process.stdout.write(`${result.resource} scaled\n`);
    return 0;
  },
};
