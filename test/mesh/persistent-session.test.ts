import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeCookieValue } from "../../src/lb/stateful-session.js";
import { CookieJar, DEPLOY, FIXTURES, startTestMesh, type TestMesh } from "../helpers/mesh.js";

describe("persistent sessions from the Service label", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, {
      manifests: [join(DEPLOY, "session.yaml"), join(DEPLOY, "session-gateway.yaml")],
      replicas: 3,
    });
    const file = join(FIXTURES, "persistent-session-svc.yaml");
    await tm.client.apply(file, await readFile(file, "utf8"));
  });
  after(() => tm?.stop());

  it("pins a client to the pod its cookie names and issues a new cookie when that pod is gone", async () => {
    const jar = new CookieJar();
    const first = await tm.get("/user", { jar });
    const cookie = first.headers.getSetCookie().find((c) => c.startsWith("session-pod="));
    assert.match(cookie ?? "", /^session-pod="[A-Za-z0-9+/=]+"; Path=\/; HttpOnly$/);
    const pod = tm.mesh.views().pods.find((p) => p.name === first.hostname);
    assert.equal(decodeCookieValue(jar.cookies.get("session-pod")?.replaceAll('"', "") ?? ""), pod?.address);
    const counts = [first.count];
    for (let i = 0; i < 4; i++) {
      const r = await tm.get("/user", { jar });
      assert.equal(r.hostname, first.hostname);
      assert.equal(r.headers.getSetCookie().length, 0, "no new cookie while the pod serves");
      counts.push(r.count);
    }
    assert.deepEqual(counts, [1, 2, 3, 4, 5]);
    await tm.client.deletePod(first.hostname ?? "", { wait: true });
    const moved = await tm.get("/user", { jar });
    assert.notEqual(moved.hostname, first.hostname);
    assert.ok(moved.headers.getSetCookie().some((c) => c.startsWith("session-pod=")));
  });
});
