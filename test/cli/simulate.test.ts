import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..", "..");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "simulate", ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("session-affinity simulate", () => {
  it("prints one row per algorithm and scenario with moved, ideal and imbalance", () => {
    const r = run("--sessions", "5000", "--from", "4", "--to", "5");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0] as string, /^lb\s+scenario\s+moved\s+ideal\s+imbalance$/);
    assert.equal(lines.length, 7);
    assert.match(r.stdout, /maglev\s+scale 4→5\s+\d+\.\d%\s+20\.0%/);
    assert.match(r.stdout, /ring-hash\s+remove one pod\s+\d+\.\d%\s+25\.0%/);
  });

  it("is reproducible for a seed and --json carries the same numbers", () => {
    const a = run("--sessions", "3000", "--seed", "9", "--json");
    const b = run("--sessions", "3000", "--seed", "9", "--json");
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    const rows = JSON.parse(a.stdout) as { policy: string; moved: number; idealPercent: number }[];
    assert.equal(rows.length, 6);
    assert.ok(rows.every((row) => row.moved >= 0 && row.idealPercent > 0));
  });

  it("Maglev moves close to the ideal share when scaling 4→5 (within 3 points)", () => {
    const rows = JSON.parse(run("--sessions", "20000", "--from", "4", "--lb", "maglev", "--json").stdout) as {
      scenario: string;
      movedPercent: number;
    }[];
    const scale = rows.find((row) => row.scenario.startsWith("scale"));
    assert.ok(scale && Math.abs(scale.movedPercent - 20) < 3, JSON.stringify(scale));
  });

  it("--help lists every flag", () => {
    const r = run("--help");
    assert.equal(r.code, 0);
    for (const flag of [
      "--sessions",
      "--from",
      "--to",
      "--lb",
      "--min-ring-size",
      "--table-size",
      "--seed",
      "--json",
    ]) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });

  for (const [what, args, message] of [
    ["a non-prime table size", ["--table-size", "100"], /--table-size 100 is not prime/],
    ["zero sessions", ["--sessions", "0"], /--sessions 0 must be a positive integer/],
    ["an unknown algorithm", ["--lb", "round-robin"], /--lb round-robin is not ring-hash or maglev/],
  ] as const) {
    it(`rejects ${what} with exit code 2`, () => {
      const r = run(...args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
    });
  }
});
