import { exec } from "node:child_process";
import type { Disruption } from "./run-check.js";

/** `--during "<command>"`: runs it through the shell and waits; its output goes to stderr. */
export function shellDisruption(command: string, log: (line: string) => void): Disruption {
  return {
    label: `\`${command}\``,
    run: () =>
      new Promise((resolve) => {
        exec(command, { timeout: 300_000 }, (err, stdout, stderr) => {
          const output = `${stdout}${stderr}`.trim();
          if (output) log(output);
          if (err) log(`--during command failed (${err.code ?? err.signal ?? err.message}); requests go on`);
          resolve();
        });
      }),
  };
}
