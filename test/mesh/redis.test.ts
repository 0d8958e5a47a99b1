import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT } from "../helpers/mesh.js";
import { alive } from "../helpers/process.js";

describe("the private redis-server of --store redis", () => {
  it("dies with the process that started it, even when that process is SIGKILLed", async (t) => {
    // A stand-in for `up --store redis`: starts the store, prints redis-server's pid, then idles.
    const holder = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `import { startRedisStore } from ${JSON.stringify(join(ROOT, "src/mesh/redis.ts"))};
         const store = await startRedisStore(undefined);
         console.log(JSON.stringify({ pid: store.pid, url: store.url }));
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let redisPid: number | undefined;
    t.after(() => {
      holder.kill("SIGKILL");
      if (redisPid !== undefined && alive(redisPid)) process.kill(redisPid, "SIGKILL");
    });
    let out = "";
    holder.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    for (let i = 0; i < 300 && !out.includes("\n"); i++) await new Promise((r) => setTimeout(r, 50));
    const started = JSON.parse(out.split("\n")[0] ?? "") as { pid: number; url: string };
    redisPid = started.pid;
    assert.ok(alive(redisPid), "redis-server runs while its starter does");

    holder.kill("SIGKILL");
    for (let i = 0; i < 100 && alive(redisPid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(alive(redisPid), false, `redis-server ${redisPid} outlived the SIGKILLed mesh`);
  });
});
