import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { startCli } from "../helpers/cli.js";
import { freePort } from "../helpers/ports.js";

function status(port: number, path: string, agent?: import("node:http").Agent) {
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

test("SIGTERM: not ready at once, serves through SHUTDOWN_DELAY_MS, then stops accepting and exits 0", async (t) => {
  const port = await freePort();
  const service = await startCli(
    ["serve"],
    {
      PORT: String(port),
      HOST: "127.0.0.1",
      SHUTDOWN_DELAY_MS: "800",
      SHUTDOWN_TIMEOUT_MS: "2000",
      POD_NAME: "p",
    },
    /session service listening/,
  );
  t.after(() => service.child.kill("SIGKILL"));
  const { Agent } = await import("node:http");
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  assert.equal(await status(port, "/user", keepAlive), 200);

  const signalled = Date.now();
  service.child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await status(port, "/readyz"), 503, "readiness fails at once");
  assert.equal(await status(port, "/user", keepAlive), 200, "an open keep-alive connection is still served");
  assert.equal(await status(port, "/user"), 200, "new connections are still accepted during the delay");

  const code = await service.exited;
  const took = Date.now() - signalled;
  assert.equal(code, 0);
  assert.ok(took >= 800, `exited after ${took} ms, not before the delay`);
  assert.ok(took < 2800, `exited after ${took} ms, within delay + timeout`);
  await assert.rejects(status(port, "/healthz"), /ECONNREFUSED/);
  keepAlive.destroy();
  assert.match(service.stdout(), /"msg":"stopped"/);
});

test("SIGINT stops the service gracefully too", async (t) => {
  const port = await freePort();
  const service = await startCli(
    ["serve"],
    { PORT: String(port), HOST: "127.0.0.1" },
    /session service listening/,
  );
  t.after(() => service.child.kill("SIGKILL"));
  service.child.kill("SIGINT");
  assert.equal(await service.exited, 0);
});
