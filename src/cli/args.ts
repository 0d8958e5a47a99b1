import { type ParseArgsConfig, parseArgs } from "node:util";
import { SessionAffinityError } from "../errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * node:util parseArgs with the project's error convention: an unknown or malformed flag becomes one
 * ERR_USAGE line naming the command and the flag.
 */
export function parseFlags<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new SessionAffinityError("ERR_USAGE", `${command}: ${message}`, { cause: err });
  }
}
