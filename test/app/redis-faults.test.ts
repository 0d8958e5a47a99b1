import assert from "node:assert/strict";
import { test } from "node:test";
import { startRedis } from "../helpers/redis-server.js";
import { CookieJar, startTestService } from "../helpers/service.js";

const SECRET = "redis-faults-secret-0123456789";

async function user(url: string, jar: CookieJar) {
  const started = Date.now();
  const response = await fetch(`${url}/user`, { headers: { ...jar.header(), accept: "application/json" } });
  jar.store(response);
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    count: response.status === 200 ? (JSON.parse(text) as { count: number }).count : undefined,
    ms: Date.now() - started,
  };
}

async function untilOk(url: string, jar: CookieJar, timeoutMs: number) {
  const started = Date.now();
  for (let i = 0; i < 200; i++) {
    const r = await user(url, jar);
    if (r.status === 200) return { ...r, recoveredAfterMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no 200 within ${timeoutMs} ms`);
}

test("redis killed: 503 + Retry-After fast and counted in /metrics, still ready and alive; restarted with its data: sessions continue exactly", async (t) => {
  const redis = await startRedis({ appendOnly: true });
  t.after(() => redis.stop());
  const service = await startTestService(t, {
    SESSION_STORE: "redis",
    REDIS_URL: redis.url,
    SESSION_SECRET: SECRET,
    STORE_TIMEOUT_MS: "500",
  });
  const jar = new CookieJar();
  for (let i = 1; i <= 3; i++) assert.equal((await user(service.url, jar)).count, i);

  await redis.kill();
  const down = await user(service.url, jar);
  assert.equal(down.status, 503);
  assert.equal(down.retryAfter, "1");
  assert.ok(down.ms < 1500, `answered in ${down.ms} ms`);
  // Readiness is this pod's, not the shared store's: an outage must not take every endpoint out at once.
  assert.equal((await fetch(`${service.url}/readyz`)).status, 200);
  assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  assert.match(await (await fetch(`${service.url}/metrics`)).text(), /^session_store_errors_total 1$/m);

  await redis.restart();
  const back = await untilOk(service.url, jar, 5000);
  assert.ok(back.recoveredAfterMs <= 2000, `recovered ${back.recoveredAfterMs} ms after redis returned`);
  assert.equal(back.count, 4, "the session continues where it was: no increment lost, none invented");
  assert.equal((await fetch(`${service.url}/readyz`)).status, 200);
});

test("redis frozen with SIGSTOP: requests fail with 503 within the store timeout; after SIGCONT it serves again", async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const service = await startTestService(t, {
    SESSION_STORE: "redis",
    REDIS_URL: redis.url,
    SESSION_SECRET: SECRET,
    STORE_TIMEOUT_MS: "400",
  });
  const jar = new CookieJar();
  assert.equal((await user(service.url, jar)).count, 1);

  redis.freeze();
  const frozen = await Promise.all([user(service.url, jar), user(service.url, jar)]);
  for (const r of frozen) {
    assert.equal(r.status, 503);
    assert.equal(r.retryAfter, "1");
    assert.ok(r.ms < 1500, `answered in ${r.ms} ms`);
  }
  assert.equal((await fetch(`${service.url}/readyz`)).status, 200, "a frozen store leaves the pod ready");

  redis.thaw();
  const back = await untilOk(service.url, jar, 5000);
  assert.ok(back.recoveredAfterMs <= 2000, `recovered ${back.recoveredAfterMs} ms after thaw`);
  // The two timed-out increments reached Redis once it thawed: unacknowledged, but never lost or doubled.
  assert.ok(back.count !== undefined && back.count >= 2 && back.count <= 4, `count ${back.count}`);
  const next = await user(service.url, jar);
  assert.equal(next.count, (back.count ?? 0) + 1, "counting goes on by exactly one");
});
