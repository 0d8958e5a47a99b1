#!/usr/bin/env node
import { isUserError, SessionAffinityError } from "../errors.js";
import { commands } from "./commands.js";

function usage(): string {
  const names = Object.keys(commands).sort();
  return [
    "usage: session-affinity <command> [options]",
    "",
    `commands: ${names.join(", ")}`,
    "Run `session-affinity <command> --help` for a command's options.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`session-affinity: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  const command = await load();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof SessionAffinityError) {
      process.stderr.write(`session-affinity: ${err.message}\n`);
      process.exitCode = isUserError(err) ? 2 : 1;
      return;
    }
    process.stderr.write(
      `session-affinity: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
