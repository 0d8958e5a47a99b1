import { configHelp, loadConfig } from "../app/config.js";
import { startService, untilSignalled } from "../app/server.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity serve

Runs one replica of the session counter service (GET /user, /healthz, /readyz, /metrics).
Configured only by environment variables:

${configHelp()}
`;

export const serveCommand: Command = {
  summary: "run one replica of the session counter service",
  async run(argv) {
    if (argv.includes("--help") || argv.includes("-h")) {
      process.stdout.write(HELP);
      return 0;
    }
    if (argv.length > 0) {
      process.stderr.write(
        `session-affinity: serve: unexpected argument '${argv[0]}' (configure with environment variables; see --help)\n`,
      );
      return 2;
    }
    const config = loadConfig();
    const service = await startService(config);
    await untilSignalled(service, config.EXIT_WITH_PARENT);
    return 0;
  },
};
