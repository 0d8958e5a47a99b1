/**
 * Runs every benchmark script in turn (each writes its own section of BENCHMARKS.md). They run one at
 * a time because each measures speed on a machine it must have to itself.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const SCRIPTS: [string, string[]][] = [
  ["lb.ts", []],
  ["istiod.ts", []],
  ["explain.ts", []],
  ["session-memory.ts", ["--expose-gc"]],
  ["service.ts", []],
  ["mesh.ts", []],
];

for (const [script, nodeFlags] of SCRIPTS) {
  process.stdout.write(`\n== bench/${script}\n`);
  const run = spawnSync(
    process.execPath,
    [...nodeFlags, "--import", "tsx", join(import.meta.dirname, script)],
    {
      stdio: "inherit",
    },
  );
  if (run.status !== 0) {
    process.stderr.write(`bench/${script} failed (exit ${run.status ?? run.signal})\n`);
    process.exit(1);
  }
}
