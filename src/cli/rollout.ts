import { SessionAffinityError } from "../errors.js";
import { ControlClient, DEFAULT_ADMIN_URL, deploymentRef } from "../mesh/control-client.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity rollout restart deployment/NAME [--admin URL]
       session-affinity rollout status deployment/NAME [--timeout 60s] [--admin URL]

restart: new pods for every replica, rolled like kubectl (new template hash, surge, old pods
removed as new ones become ready). status: waits until the rollout is complete.

  -n, --namespace NS  namespace (default default)
  --timeout DURATION  how long status waits (default 60s)
  --admin URL         the mesh's admin API (default ${DEFAULT_ADMIN_URL})
  --help              show this help`;

const OPTIONS = {
  namespace: { type: "string", short: "n", default: "default" },
  timeout: { type: "string", default: "60s" },
  admin: { type: "string", default: DEFAULT_ADMIN_URL },
  help: { type: "boolean", default: false },
} as const;

export const rolloutCommand: Command = {
  summary: "restart a Deployment's pods or wait for its rollout (kubectl rollout)",
  async run(argv) {
    const { values, positionals } = parseFlags("rollout", argv, OPTIONS, true);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const [action, ...rest] = positionals;
    if (action !== "restart" && action !== "status") {
      throw new SessionAffinityError(
        "ERR_USAGE",
        `rollout: ${action === undefined ? "an action" : `'${action}'`} — use restart or status`,
      );
    }
    const name = deploymentRef(rest, `rollout ${action}`);
    const timeout = /^(\d+)(ms|s|m)$/.exec(values.timeout);
    if (!timeout)
      throw new SessionAffinityError(
        "ERR_USAGE",
        `rollout: --timeout ${values.timeout} is not a duration like 60s`,
      );
    const client = new ControlClient(values.admin);
    if (action === "restart") {
      const result = await client.rolloutRestart(name, values.namespace);
      process.stdout.write(`${result.resource} restarted\n`);
      return 0;
    }
    const limitMs = Number(timeout[1]) * { ms: 1, s: 1000, m: 60_000 }[timeout[2] as "ms" | "s" | "m"];
    const deadline = Date.now() + limitMs;
    for (;;) {
      const state = await client.state();
      const d = state.deployments.find((x) => x.name === name && x.namespace === values.namespace);
      if (!d) throw new SessionAffinityError("ERR_USAGE", `deployments.apps "${name}" not found`);
      const pods = state.pods.filter((p) => p.deployment === name && p.namespace === values.namespace);
      if (d.upToDate === d.replicas && d.ready === d.replicas && pods.length === d.replicas) {
        process.stdout.write(`deployment "${name}" successfully rolled out\n`);
        return 0;
      }
      if (Date.now() > deadline) {
        process.stderr.write(`error: timed out waiting for the rollout of deployment "${name}"\n`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  },
};
