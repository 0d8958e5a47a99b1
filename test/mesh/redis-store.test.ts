import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CookieJar, DEPLOY, startTestMesh, type TestMesh } from "../helpers/mesh.js";
import { type RedisServer, startRedis } from "../helpers/redis-server.js";

describe("--store redis: sessions outlive pods", () => {
  let redis: RedisServer;
  let tm: TestMesh;
  before(async () => {
    redis = await startRedis();
    tm = await startTestMesh(undefined, {
      manifests: [DEPLOY],
      replicas: 3,
      store: "redis",
      redisUrl: redis.url,
    });
  });
  after(async () => {
    await tm?.stop();
    await redis?.stop();
  });

  it("every pod gets the store and one shared SESSION_SECRET", () => {
    const envs = tm.mesh.replicaSets.pods().map((p) => p.spec.env);
    assert.equal(envs.length, 3);
    for (const env of envs) {
      assert.equal(env.SESSION_STORE, "redis");
      assert.equal(env.REDIS_URL, redis.url);
      assert.equal(env.SESSION_SECRET, tm.mesh.sessionSecret);
    }
  });

  it("the counter continues when the session's pod is deleted and when the Deployment scales", async () => {
    const jar = new CookieJar();
    const counts: number[] = [];
    const first = await tm.get("/user", { jar });
    counts.push(first.count ?? 0);
    counts.push((await tm.get("/user", { jar })).count ?? 0);
    assert.ok(first.hostname);
    await tm.client.deletePod(first.hostname, { wait: true });
    await tm.mesh.waitSettled(20_000);
    const moved = await tm.get("/user", { jar });
    assert.notEqual(moved.hostname, first.hostname);
    counts.push(moved.count ?? 0);
    await tm.client.scale("session-deployment", 5);
    await tm.mesh.waitSettled(20_000);
    counts.push((await tm.get("/user", { jar })).count ?? 0);
    await tm.client.scale("session-deployment", 2);
    await tm.mesh.waitSettled(20_000);
    counts.push((await tm.get("/user", { jar })).count ?? 0);
    assert.deepEqual(counts, [1, 2, 3, 4, 5]);
  });
});

describe("--store redis without REDIS_URL", () => {
  it("starts its own redis-server on a free port, behind a random password, and stops it with the mesh", async (t) => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    t.after(() => {
      if (saved !== undefined) process.env.REDIS_URL = saved;
    });
    const tm = await startTestMesh(t, { store: "redis" });
    const url = tm.mesh.redisUrl;
    assert.match(url ?? "", /^redis:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(url?.split(":").at(-1));
    const { createConnection } = await import("node:net");
    const reachable = () =>
      new Promise<boolean>((resolve) => {
        const s = createConnection({ host: "127.0.0.1", port });
        s.once("connect", () => {
          s.destroy();
          resolve(true);
        });
        s.once("error", () => resolve(false));
      });
    assert.equal(await reachable(), true);
    // Another local user reaches the port but not the sessions: every command needs the password.
    const answer = await new Promise<string>((resolve, reject) => {
      const s = createConnection({ host: "127.0.0.1", port });
      s.setEncoding("utf8");
      s.once("data", (d: string) => {
        s.destroy();
        resolve(d);
      });
      s.once("error", reject);
      s.write("GET anything\r\n");
    });
    assert.match(answer, /^-NOAUTH /);
    await tm.stop();
    assert.equal(await reachable(), false, "the private redis-server is gone");
  });
});
