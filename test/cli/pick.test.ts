import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..", "..");
const PODS = "10.244.0.10:8080,10.244.0.11:8080,10.244.0.12:8080,10.244.0.13:8080,10.244.0.14:8080";

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "pick", ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("session-affinity pick", () => {
  it("prints the pod a quoted cookie reaches on Istio's default ring (fact-sheet example)", () => {
    const r = run("--endpoints", PODS, "--cookie", 'session="071ab12ec2c21647"');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "10.244.0.11:8080\n");
  });

  it("--json adds the hash and the Maglev table statistics", () => {
    const r = run("--lb", "maglev", "--endpoints", PODS, "--hash", String(0x644ae6b1ebc2454en), "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      endpoint: "10.244.0.11:8080",
      lb: "maglev",
      hash: "7226842203908359502",
      stats: { endpoints: 5, size: 65537, minEntriesPerHost: 13107, maxEntriesPerHost: 13108 },
    });
  });

  it("reproduces Envoy's Basic ring test from the command line", () => {
    const ports = [90, 91, 92, 93, 94, 95].map((p) => `127.0.0.1:${p}`).join(",");
    assert.equal(
      run("--endpoints", ports, "--min-ring-size", "12", "--hash", "3551244743356806948").stdout,
      "127.0.0.1:93\n",
    );
  });

  it("--help lists every flag", () => {
    const r = run("--help");
    assert.equal(r.code, 0);
    for (const flag of [
      "--lb",
      "--endpoints",
      "--min-ring-size",
      "--max-ring-size",
      "--table-size",
      "--hash",
      "--cookie",
      "--header",
      "--source-ip",
      "--query",
      "--seed",
      "--json",
    ]) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });

  const bad: [string, string[], RegExp][] = [
    ["a malformed endpoint", ["--endpoints", "10.0.0.1", "--hash", "1"], /'10\.0\.0\.1' is not an ip:port/],
    ["a duplicate endpoint", ["--endpoints", "10.0.0.1:80,10.0.0.1:80", "--hash", "1"], /listed twice/],
    ["a zero weight", ["--endpoints", "10.0.0.1:80=0", "--hash", "1"], /weight 0 of 10\.0\.0\.1:80/],
    [
      "a non-prime table size",
      ["--lb", "maglev", "--endpoints", "10.0.0.1:80", "--table-size", "65536", "--hash", "1"],
      /--table-size 65536 is not prime/,
    ],
    [
      "a too-large table size",
      ["--lb", "maglev", "--endpoints", "10.0.0.1:80", "--table-size", "5000011", "--hash", "1"],
      /less than 5000011/,
    ],
    [
      "min ring > max ring",
      ["--endpoints", "10.0.0.1:80", "--min-ring-size", "20", "--max-ring-size", "10", "--hash", "1"],
      /--min-ring-size 20 > --max-ring-size 10/,
    ],
    [
      "a hash outside uint64",
      ["--endpoints", "10.0.0.1:80", "--hash", "18446744073709551616"],
      /--hash 18446744073709551616 is not a uint64/,
    ],
    ["no key", ["--endpoints", "10.0.0.1:80"], /needs a key/],
    ["an unknown flag", ["--bogus"], /^session-affinity: pick: /],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what} with one line and exit code 2`, () => {
      const r = run(...args);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1);
    });
  }
});
