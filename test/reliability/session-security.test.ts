import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { CookieJar, DEPLOY, gatewayGet, startTestMesh, type TestMesh } from "../helpers/mesh.js";
import { record, sleep } from "../helpers/reliability.js";

const TTL_SECONDS = 2;

/** deploy/ with SESSION_TTL_SECONDS shortened, so expiry can be replayed within the test. */
async function shortTtlManifests(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sa-ttl-"));
  for (const file of ["session.yaml", "session-gateway.yaml", "session-affinity.yaml"]) {
    let text = await readFile(join(DEPLOY, file), "utf8");
    if (file === "session.yaml") {
      const before = text;
      text = text.replace(/(name: SESSION_TTL_SECONDS\n\s+value: )"1800"/, `$1"${TTL_SECONDS}"`);
      assert.notEqual(text, before, "SESSION_TTL_SECONDS found in deploy/session.yaml");
    }
    await writeFile(join(dir, file), text);
  }
  return dir;
}

const sidOf = (jar: CookieJar) => jar.cookies.get("sid");

describe("session ids through the gateway: forged, tampered, expired, fixed", () => {
  let tm: TestMesh;
  let dir: string;
  before(async () => {
    dir = await shortTtlManifests();
    tm = await startTestMesh(undefined, { manifests: [dir], replicas: 2, readyTimeoutMs: 60_000 });
  });
  after(async () => {
    await tm?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A GET carrying `sid` (and the route cookie of `jar`, so it reaches the pod that knows the session). */
  const withSid = async (jar: CookieJar, sid: string) => {
    const probe = new CookieJar();
    for (const [k, v] of jar.cookies) probe.cookies.set(k, v);
    probe.cookies.set("sid", sid);
    const r = await gatewayGet(tm.gatewayUrl, "/user", { jar: probe });
    return { r, issued: sidOf(probe) };
  };

  it("forged and tampered ids are never accepted, and the client never chooses its id", async () => {
    const owner = new CookieJar();
    await tm.get("/user", { jar: owner });
    assert.equal((await tm.get("/user", { jar: owner })).count, 2);
    const genuine = sidOf(owner);
    assert.ok(genuine);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let tried = 0;
    let ownerCount = 2;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // A random well-formed value: 22 base64url, a dot, 22 base64url.
          fc
            .constant(0)
            .map(() => `${randomBytes(16).toString("base64url")}.${randomBytes(16).toString("base64url")}`),
          // The genuine value with one character changed, dropped or added.
          fc
            .tuple(
              fc.nat(genuine.length - 1),
              fc.constantFrom(...alphabet),
              fc.constantFrom("swap", "drop", "add"),
            )
            .map(([i, c, how]) => {
              const head = genuine.slice(0, i);
              const tail = genuine.slice(i + 1);
              const at = genuine[i] as string;
              if (how === "drop") return head + tail;
              if (how === "add") return head + at + c + tail;
              return head + (c === at ? (c === "A" ? "B" : "A") : c) + tail;
            }),
          // The genuine id with another signature, or a signature with another id.
          fc.constant(0).map(() => `${genuine.slice(0, 22)}.${randomBytes(16).toString("base64url")}`),
          fc.constant(0).map(() => `${randomBytes(16).toString("base64url")}.${genuine.slice(23)}`),
          // Values a client would pick to fix a victim's session.
          fc.constantFrom(
            "attacker",
            "0",
            "",
            "admin",
            `${"A".repeat(22)}.${"A".repeat(22)}`,
            `"${genuine}x"`,
          ),
        ),
        async (forged) => {
          fc.pre(forged !== genuine);
          tried++;
          // The genuine session must outlive the run: keep it inside its short TTL.
          if (tried % 10 === 0) assert.equal((await tm.get("/user", { jar: owner })).count, ++ownerCount);
          const { r, issued } = await withSid(owner, forged);
          assert.equal(r.status, 200);
          assert.equal(r.count, 1, `${JSON.stringify(forged)} continued a session`);
          assert.ok(issued && issued !== forged, "the server issued its own id");
        },
      ),
      { numRuns: 150 },
    );
    // The genuine session is untouched by all of it.
    assert.equal((await tm.get("/user", { jar: owner })).count, ownerCount + 1);
    record({
      group: "hostile",
      scenario: "forged, tampered and client-chosen session ids through the gateway",
      load: "sequential GETs",
      faults: "none",
      badInputs: tried,
      requests: tried + ownerCount + 1,
      failed: 0,
      sessionsLost: 0,
      notes:
        "none accepted (each answered 1st time access with a new server-chosen id); the genuine session kept counting",
    });
  });

  it("a session id replayed after expiry starts over and is not accepted again", async () => {
    const jar = new CookieJar();
    await tm.get("/user", { jar });
    assert.equal((await tm.get("/user", { jar })).count, 2);
    const old = sidOf(jar);
    assert.ok(old);
    // Sliding TTL in whole seconds: idle a little more than TTL + 1 s.
    await sleep((TTL_SECONDS + 1.5) * 1000);
    const replay = await withSid(jar, old);
    assert.equal(replay.r.count, 1, "an expired id does not continue");
    assert.notEqual(replay.issued, old, "and it is replaced, not revived");
    const again = await withSid(jar, old);
    assert.equal(again.r.count, 1, "the expired id is still refused on a second replay");
    record({
      group: "hostile",
      scenario: `session id replayed after expiry (SESSION_TTL_SECONDS=${TTL_SECONDS})`,
      load: "sequential GETs",
      faults: "idle past the TTL",
      badInputs: 2,
      requests: 4,
      failed: 0,
      sessionsLost: 0,
      notes: "both replays started a new session with a new id",
    });
  });

  it("session ids carry 128 random bits: unique, uniform bits, never chosen by the client", async () => {
    const n = 400;
    const ids: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const jar = new CookieJar();
      jar.cookies.set("sid", `chosen-by-client-${i}`);
      await tm.get("/user", { jar });
      const sid = sidOf(jar);
      assert.ok(sid && sid !== `chosen-by-client-${i}`);
      const id = sid.split(".")[0] as string;
      assert.match(id, /^[A-Za-z0-9_-]{22}$/);
      ids.push(Buffer.from(id, "base64url"));
    }
    assert.equal(new Set(ids.map((b) => b.toString("hex"))).size, n, "no id repeats");
    for (const b of ids) assert.equal(b.length, 16, "16 bytes = 128 bits");
    // Each of the 128 bit positions is set in about half the ids; a counter, a clock or a weak PRNG
    // seeded per process leaves positions stuck. 400 draws: mean 200, σ 10; ±6σ.
    const stuck: number[] = [];
    for (let bit = 0; bit < 128; bit++) {
      let ones = 0;
      for (const b of ids) ones += ((b[bit >> 3] as number) >> (bit & 7)) & 1;
      if (ones < 140 || ones > 260) stuck.push(bit);
    }
    assert.deepEqual(stuck, []);
    // Hamming distance between consecutive ids: 64 ± 5.7 for independent draws.
    let distance = 0;
    for (let i = 1; i < n; i++) {
      const a = ids[i - 1] as Buffer;
      const b = ids[i] as Buffer;
      for (let j = 0; j < 16; j++) {
        let x = (a[j] as number) ^ (b[j] as number);
        while (x) {
          distance += x & 1;
          x >>= 1;
        }
      }
    }
    const mean = distance / (n - 1);
    assert.ok(mean > 60 && mean < 68, `mean Hamming distance ${mean.toFixed(1)}`);
    record({
      group: "hostile",
      scenario: "session id entropy (ids minted through the gateway)",
      load: `${n} new sessions, each offering its own id`,
      faults: "none",
      badInputs: n,
      requests: n,
      failed: 0,
      sessionsLost: 0,
      notes: `${n} distinct 128-bit ids (crypto.randomBytes), no stuck bit, mean Hamming distance ${mean.toFixed(1)}/128; no client-chosen id kept`,
    });
  });
});
