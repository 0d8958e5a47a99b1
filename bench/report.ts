import { readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

const FILE = join(import.meta.dirname, "..", "BENCHMARKS.md");
const HEADER =
  "# Benchmarks\n\nEach section is written by one script in `bench/`; rerun it to refresh that section.\n";

/** The machine and runtime a figure was measured on, for the top of each section. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const gib = (totalmem() / 2 ** 30).toFixed(0);
  return `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpus().length} × ${cpu}, ${gib} GiB, Node.js ${process.version}.`;
}

/**
 * Replaces (or appends) the section between `<!-- bench:NAME -->` markers in BENCHMARKS.md, so each
 * benchmark script owns its own section and reruns do not disturb the others.
 */
export async function writeSection(name: string, markdown: string): Promise<void> {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  let text: string;
  try {
    text = await readFile(FILE, "utf8");
  } catch {
    text = HEADER;
  }
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text =
    from >= 0 && to > from
      ? text.slice(0, from) + block + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(FILE, text);
}
