import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig, redactedConfig } from "../../src/app/config.js";
import { SessionAffinityError } from "../../src/errors.js";

test("defaults apply when the environment is empty", () => {
  const config = loadConfig({});
  assert.equal(config.PORT, 8080);
  assert.equal(config.SESSION_STORE, "memory");
  assert.equal(config.SESSION_TTL_SECONDS, 1800);
  assert.equal(config.MAX_SESSIONS, 1_000_000);
  assert.equal(config.COOKIE_NAME, "sid");
  assert.equal(config.COOKIE_SECURE, false);
  assert.equal(config.SHUTDOWN_DELAY_MS, 0);
  assert.deepEqual(config.REDIS_CLUSTER_NODES, []);
});

test("Redis Cluster nodes parse as a list; IPv6 in brackets is accepted", () => {
  const config = loadConfig({ REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-1.redis:7001,[::1]:7002" });
  assert.deepEqual(config.REDIS_CLUSTER_NODES, ["10.0.0.1:7000", "redis-1.redis:7001", "[::1]:7002"]);
  assert.throws(
    () => loadConfig({ REDIS_CLUSTER_NODES: "10.0.0.1" }),
    /REDIS_CLUSTER_NODES="10.0.0.1": must be a comma-separated list/,
  );
});

test("an invalid value throws ERR_CONFIG naming the variable", () => {
  assert.throws(
    () => loadConfig({ MAX_SESSIONS: "0" }),
    (err: unknown) =>
      err instanceof SessionAffinityError &&
      err.code === "ERR_CONFIG" &&
      err.message.startsWith('MAX_SESSIONS="0": must be a whole number'),
  );
});

test("the logged config hides the secret and URL credentials", () => {
  const config = loadConfig({
    SESSION_SECRET: "a-very-secret-value-1234",
    REDIS_URL: "rediss://user:pw@redis:6380/0",
  });
  const shown = JSON.stringify(redactedConfig(config));
  assert.ok(!shown.includes("a-very-secret-value-1234"));
  assert.ok(!shown.includes("pw@"));
  assert.match(shown, /rediss:\/\/\[redacted\]@redis:6380\/0/);
});
