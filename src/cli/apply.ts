import { SessionAffinityError } from "../errors.js";
import { formatFinding } from "../lint/index.js";
import { kubectlDenials, kubectlWarnings } from "../lint/kubectl-format.js";
import { ControlClient, DEFAULT_ADMIN_URL, manifestFiles } from "../mesh/control-client.js";
import { RejectedManifestError } from "../mesh/control-plane.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity apply -f FILE [-f FILE...] [--admin URL]

Applies manifests to the running local mesh, like kubectl apply. Each file is linted together with
what is already applied and taken whole or not at all; a rejected file prints its findings.

  -f, --filename PATH   a manifest file, a folder of them, or - for standard input
  --admin URL           the mesh's admin API (default ${DEFAULT_ADMIN_URL})
  --help                show this help`;

const OPTIONS = {
  filename: { type: "string", short: "f", multiple: true },
  admin: { type: "string", default: DEFAULT_ADMIN_URL },
  help: { type: "boolean", default: false },
} as const;

export const applyCommand: Command = {
  summary: "apply manifests to the running local mesh (kubectl apply -f)",
  async run(argv) {
    const { values, positionals } = parseFlags("apply", argv, OPTIONS, true);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (positionals.length > 0)
      throw new SessionAffinityError("ERR_USAGE", `apply: unexpected argument '${positionals[0]}'`);
    if (!values.filename || values.filename.length === 0) {
      throw new SessionAffinityError("ERR_USAGE", "apply: -f FILE is required");
    }
    const client = new ControlClient(values.admin);
    for (const { file, text } of await manifestFiles(values.filename)) {
      try {
        const result = await client.apply(file, text);
        for (const line of kubectlWarnings(result.findings)) process.stderr.write(`${line}\n`);
        for (const finding of result.findings) process.stderr.write(`warning: ${formatFinding(finding)}\n`);
        for (const o of result.objects) process.stdout.write(`${o.resource} ${o.action}\n`);
      } catch (err) {
        if (err instanceof RejectedManifestError) {
          for (const line of kubectlDenials(file, err.findings)) process.stderr.write(`${line}\n`);
          for (const finding of err.findings) process.stderr.write(`${formatFinding(finding)}\n`);
        }
        throw err;
      }
    }
    return 0;
  },
};
