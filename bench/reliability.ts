/**
 * Runs the reliability suite with RELIABILITY_RECORD set and renders RELIABILITY.md from what the
 * tests measured in that run. Exits non-zero (and leaves RELIABILITY.md alone) when a test failed.
 *
 *   node --import tsx bench/reliability.ts
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

interface Row {
  group: "load" | "faults" | "hostile";
  scenario: string;
  load: string;
  faults: string;
  badInputs: number;
  requests: number;
  failed: number;
  sessionsLost: number;
  notes?: string;
  at: string;
}

const ROOT = join(import.meta.dirname, "..");
const COMMAND = "node --import tsx --test test/reliability/*.test.ts";

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sa-reliability-"));
  const file = join(dir, "records.jsonl");
  const tests = (await readdir(join(ROOT, "test", "reliability")))
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => join("test", "reliability", f));
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--test", ...tests], {
      cwd: ROOT,
      env: { ...process.env, RELIABILITY_RECORD: file },
      stdio: "inherit",
    });
    child.once("exit", (c) => resolve(c ?? 1));
  });
  const seconds = (Date.now() - started) / 1000;
  const text = await readFile(file, "utf8").catch(() => "");
  await rm(dir, { recursive: true, force: true });
  if (code !== 0) {
    console.error(`reliability suite failed (exit ${code}); RELIABILITY.md not written`);
    process.exit(code);
  }
  const rows = text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
  await writeFile(join(ROOT, "RELIABILITY.md"), render(rows, seconds));
  console.log(`RELIABILITY.md: ${rows.length} scenarios, suite ${seconds.toFixed(0)} s`);
}

const cell = (s: string | number) => String(s).replaceAll("|", "\\|").replaceAll("\n", " ");
const n = (v: number) => v.toLocaleString("en-US");

function render(rows: Row[], seconds: number): string {
  const titles = { load: "Load and exactness", faults: "Faults", hostile: "Hostile input" } as const;
  const date = rows[0]?.at.slice(0, 10) ?? new Date().toISOString().slice(0, 10);
  const out: string[] = [
    "# Reliability",
    "",
    `Measured by the reliability suite on ${date} (Node ${process.version}, ${cpus().length} cores, a machine shared with other work, so times are upper bounds), in one run of ${seconds.toFixed(0)} s. Every figure below was written by the test that measured it; reproduce with:`,
    "",
    "```console",
    "$ node --import tsx bench/reliability.ts              # runs the suite, rewrites this file",
    `$ ${COMMAND}   # the suite alone`,
    "```",
    "",
    "Columns: the load held, the faults injected, hostile inputs tried, requests sent, requests that failed,",
    "and sessions lost (a counter that went backwards, skipped an acknowledged increment, or differs from",
    "its 200s; for the memory store after a pod is lost: the sessions that restarted at 1, by design).",
    "",
  ];
  for (const group of ["load", "faults", "hostile"] as const) {
    const mine = rows.filter((r) => r.group === group);
    if (mine.length === 0) continue;
    out.push(`## ${titles[group]}`, "");
    out.push(
      "| Scenario | Load held | Faults injected | Bad inputs | Requests | Failed | Sessions lost | Notes |",
    );
    out.push("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |");
    for (const r of mine) {
      out.push(
        `| ${cell(r.scenario)} | ${cell(r.load)} | ${cell(r.faults)} | ${n(r.badInputs)} | ${n(r.requests)} | ${n(r.failed)} | ${n(r.sessionsLost)} | ${cell(r.notes ?? "")} |`,
      );
    }
    out.push("");
  }
  const totals = rows.reduce(
    (t, r) => ({ bad: t.bad + r.badInputs, requests: t.requests + r.requests, failed: t.failed + r.failed }),
    { bad: 0, requests: 0, failed: 0 },
  );
  out.push(
    `Totals: ${rows.length} scenarios, ${n(totals.requests)} requests, ${n(totals.bad)} hostile inputs, ${n(totals.failed)} failed requests (each within what its scenario allows; the tests assert it).`,
    "",
  );
  return out.join("\n");
}

await main();
