import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";

test("serve --help lists every environment variable with its default", async () => {
  const { code, stdout } = await runCli(["serve", "--help"]);
  assert.equal(code, 0);
  for (const name of [
    "PORT",
    "POD_NAME",
    "SESSION_STORE",
    "REDIS_URL",
    "REDIS_CLUSTER_NODES",
    "REDIS_KEY_PREFIX",
    "SESSION_SECRET",
    "SESSION_TTL_SECONDS",
    "MAX_SESSIONS",
    "COOKIE_NAME",
    "COOKIE_SECURE",
    "STORE_TIMEOUT_MS",
    "SHUTDOWN_DELAY_MS",
    "SHUTDOWN_TIMEOUT_MS",
    "LOG_LEVEL",
  ]) {
    assert.match(stdout, new RegExp(`^  ${name} .*\\(default: `, "m"), name);
  }
});

const bad: [Record<string, string>, RegExp][] = [
  [{ PORT: "http" }, /^session-affinity: PORT="http": /],
  [{ PORT: "70000" }, /^session-affinity: PORT="70000": /],
  [
    { SESSION_STORE: "postgres" },
    /^session-affinity: SESSION_STORE="postgres": must be one of memory, redis/,
  ],
  [{ SESSION_TTL_SECONDS: "-5" }, /^session-affinity: SESSION_TTL_SECONDS="-5": /],
  [{ COOKIE_SECURE: "yes" }, /^session-affinity: COOKIE_SECURE="yes": /],
  [{ COOKIE_NAME: "a b" }, /^session-affinity: COOKIE_NAME="a b": must be a cookie-name token/],
  [
    { REDIS_URL: "http://x" },
    /^session-affinity: REDIS_URL="http:\/\/x": must be a redis:\/\/ or rediss:\/\/ URL/,
  ],
  [{ SESSION_SECRET: "short" }, /^session-affinity: SESSION_SECRET=.*at least 16 characters/],
  [{ SESSION_STORE: "redis" }, /^session-affinity: SESSION_SECRET: required when SESSION_STORE=redis/],
];

for (const [env, message] of bad) {
  test(`serve with ${JSON.stringify(env)} exits 2 with one line naming the variable`, async () => {
    const { code, stderr, stdout } = await runCli(["serve"], { env: { ...env, PORT: env.PORT ?? "0" } });
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, message);
    assert.equal(stderr.trim().split("\n").length, 1, "exactly one line");
  });
}

test("serve with an argument exits 2 and points at the environment", async () => {
  const { code, stderr } = await runCli(["serve", "--port", "80"]);
  assert.equal(code, 2);
  assert.match(stderr, /serve: unexpected argument '--port'/);
});

test("an unknown command exits 2 with the list of commands", async () => {
  const { code, stderr } = await runCli(["serv"]);
  assert.equal(code, 2);
  assert.match(stderr, /unknown command 'serv'/);
  assert.match(stderr, /commands: .*serve/);
});
