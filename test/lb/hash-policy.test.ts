import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { computeHash, firstQueryValue, generatedCookieValue } from "../../src/lb/hash-policy.js";
import { durationSeconds, routeHashPolicies } from "../../src/lb/istio-hash-policy.js";
import { rotateLeft1 } from "../../src/lb/uint64.js";
import { xxh64, xxh64Chain } from "../../src/lb/xxhash64.js";

const request = (headers: [string, string][] = [], path = "/") => ({ headers, path });

// Expectations from Envoy's test/common/http/hash_policy_test.cc (HashPolicyImplTest).
describe("hash policies (Envoy HashPolicyImplTest)", () => {
  it("HeaderHashForSingleHeaderValue: xxh64 of the value", () => {
    const r = computeHash(
      [{ kind: "header", name: "x-test-header" }],
      request([["x-test-header", "test-value"]]),
    );
    assert.equal(r.hash, xxh64("test-value"));
  });

  it("MultipleHeaderValues / SameHashForDifferentHeaderOrder: sorted values, seed-chained", () => {
    const policy = [{ kind: "header", name: "x-multi-header" }] as const;
    const a = computeHash(
      policy,
      request([
        ["x-multi-header", "value1"],
        ["x-multi-header", "value2"],
      ]),
    );
    const b = computeHash(
      policy,
      request([
        ["x-multi-header", "value2"],
        ["x-multi-header", "value1"],
      ]),
    );
    assert.equal(a.hash, xxh64Chain(["value1", "value2"]));
    assert.equal(b.hash, a.hash);
  });

  it("HeaderNotPresent: no hash", () => {
    assert.equal(computeHash([{ kind: "header", name: "x-missing-header" }], request()).hash, undefined);
  });

  it("a present but empty header hashes the empty string", () => {
    assert.equal(computeHash([{ kind: "header", name: "x-h" }], request([["x-h", ""]])).hash, xxh64(""));
  });

  it("CookieHashForPresentCookie: xxh64 of the cookie value", () => {
    const r = computeHash(
      [{ kind: "cookie", name: "test-cookie" }],
      request([["cookie", "test-cookie=cookie-value"]]),
    );
    assert.equal(r.hash, xxh64("cookie-value"));
    assert.equal(r.setCookie, undefined);
  });

  it("CookieHashForAbsentCookieWithoutTTL: no hash and no cookie", () => {
    const r = computeHash([{ kind: "cookie", name: "test-cookie" }], request());
    assert.deepEqual(r, {});
  });

  it("CookieHashForAbsentCookieWithTTL: routes by the generated value and sets it", () => {
    const r = computeHash([{ kind: "cookie", name: "test-cookie", ttlSeconds: 60 }], {
      ...request(),
      remoteAddress: { ip: "10.244.0.1", port: 54321 },
      localAddress: { ip: "10.244.0.7", port: 8080 },
    });
    assert.equal(r.hash, xxh64("071ab12ec2c21647"));
    assert.deepEqual(r.setCookie, ['test-cookie="071ab12ec2c21647"; Max-Age=60; HttpOnly']);
  });

  it("an empty cookie counts as absent and triggers generation", () => {
    const r = computeHash([{ kind: "cookie", name: "c", ttlSeconds: 0, path: "/" }], {
      ...request([["cookie", 'c=""']]),
      remoteAddress: { ip: "10.244.0.1", port: 54321 },
      localAddress: { ip: "10.244.0.7", port: 8080 },
    });
    assert.deepEqual(r.setCookie, ['c="071ab12ec2c21647"; Path=/; HttpOnly']);
  });

  it("RingHashLbWithHashPolicy: without connection addresses no cookie is generated", () => {
    assert.deepEqual(computeHash([{ kind: "cookie", name: "c", ttlSeconds: 1000 }], request()), {});
  });

  it("IpHashForValidIp / IpHashForNullAddress: the remote IP without port", () => {
    const policy = [{ kind: "source-ip" }] as const;
    assert.equal(
      computeHash(policy, { ...request(), remoteAddress: { ip: "192.168.1.1", port: 0 } }).hash,
      xxh64("192.168.1.1"),
    );
    assert.equal(computeHash(policy, request()).hash, undefined);
  });

  it("source IP text is Envoy's: IPv6 compressed without brackets, IPv4-mapped kept", () => {
    const policy = [{ kind: "source-ip" }] as const;
    const v6 = computeHash(policy, { ...request(), remoteAddress: { ip: "2001:DB8:0:0:0:0:0:1", port: 9 } });
    assert.equal(v6.hash, xxh64("2001:db8::1"));
    const mapped = computeHash(policy, { ...request(), remoteAddress: { ip: "::ffff:10.0.0.1", port: 9 } });
    assert.equal(mapped.hash, xxh64("::ffff:10.0.0.1"));
  });

  it("QueryParameterHash*: first raw value; absent parameter or no path gives no hash", () => {
    const policy = [{ kind: "query", name: "test-param" }] as const;
    assert.equal(computeHash(policy, request([], "/test?test-param=param-value")).hash, xxh64("param-value"));
    assert.equal(
      computeHash([{ kind: "query", name: "missing-param" }], request([], "/test?some-param=other-value"))
        .hash,
      undefined,
    );
    assert.equal(computeHash(policy, request([], "")).hash, undefined);
  });

  it("query values are not percent-decoded and a bare name hashes the empty string", () => {
    assert.equal(firstQueryValue("/p?u=a%20b&u=second", "u"), "a%20b");
    assert.equal(firstQueryValue("/p?user", "user"), "");
    assert.equal(firstQueryValue("/p?us%65r=x", "user"), undefined);
  });
});

describe("combining policies (Envoy generateHash)", () => {
  it("rotates the running hash left by one before XOR, so duplicates do not cancel", () => {
    const policies = routeHashPolicies({ httpCookie: { name: "s" } }, 2);
    const x = xxh64("v");
    assert.equal(computeHash(policies, request([["cookie", "s=v"]])).hash, rotateLeft1(x) ^ x);
  });

  it("skips policies without a value and stops after a terminal policy with a hash", () => {
    const r = computeHash(
      [
        { kind: "header", name: "absent" },
        { kind: "header", name: "a", terminal: true },
        { kind: "header", name: "b" },
      ],
      request([
        ["a", "1"],
        ["b", "2"],
      ]),
    );
    assert.equal(r.hash, xxh64("1"));
  });
});

describe("Istio consistentHash mapping", () => {
  it("maps each field to one Envoy policy", () => {
    assert.deepEqual(routeHashPolicies({ httpHeaderName: "x-user" }), [{ kind: "header", name: "x-user" }]);
    assert.deepEqual(routeHashPolicies({ useSourceIp: true }), [{ kind: "source-ip" }]);
    assert.deepEqual(routeHashPolicies({ httpQueryParameterName: "u" }), [{ kind: "query", name: "u" }]);
    assert.deepEqual(routeHashPolicies({ httpCookie: { name: "s", ttl: "0s" } }), [
      { kind: "cookie", name: "s", path: "", ttlSeconds: 0, attributes: [] },
    ]);
  });

  it("keeps whole seconds of a ttl (nanos dropped), so 0.5s is a session cookie", () => {
    assert.equal(durationSeconds("3600s"), 3600);
    assert.equal(durationSeconds("1h30m"), 5400);
    assert.equal(durationSeconds("0.5s"), 0);
    assert.throws(() => durationSeconds("soon"), /httpCookie.ttl: 'soon' is not a duration/);
  });

  it("the generated value is hex16(xxh64(remote + local)) (fact-sheet example)", () => {
    assert.equal(
      generatedCookieValue({ ip: "10.244.0.1", port: 54321 }, { ip: "10.244.0.7", port: 8080 }),
      "071ab12ec2c21647",
    );
  });
});

describe("a connection memo", () => {
  const addresses = {
    remoteAddress: { ip: "10.244.0.1", port: 54321 },
    localAddress: { ip: "10.244.0.7", port: 8080 },
  };

  it("gives every request on the connection the result computed without it, generating the cookie once", () => {
    const policy = { kind: "cookie", name: "test-cookie", ttlSeconds: 60 } as const;
    const memo = {};
    const plain = computeHash([policy], { ...request(), ...addresses });
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(computeHash([policy], { ...request(), ...addresses, memo }), plain);
    }
    assert.deepEqual(memo, {
      generated: { value: "071ab12ec2c21647", hash: xxh64("071ab12ec2c21647") },
      setCookie: { policy, text: 'test-cookie="071ab12ec2c21647"; Max-Age=60; HttpOnly' },
    });
  });

  it("writes the Set-Cookie of the policy in force, not of an earlier one, with the same generated value", () => {
    const memo = {};
    computeHash([{ kind: "cookie", name: "a", ttlSeconds: 60 }], { ...request(), ...addresses, memo });
    const r = computeHash([{ kind: "cookie", name: "b", ttlSeconds: 0, path: "/" }], {
      ...request(),
      ...addresses,
      memo,
    });
    assert.deepEqual(r.setCookie, ['b="071ab12ec2c21647"; Path=/; HttpOnly']);
    assert.equal(r.hash, xxh64("071ab12ec2c21647"));
  });
});

describe("a connection memo across a connection's requests", () => {
  const addresses = {
    remoteAddress: { ip: "10.244.0.1", port: 54321 },
    localAddress: { ip: "10.244.0.7", port: 8080 },
  };
  const policies = [
    [{ kind: "cookie", name: "a", ttlSeconds: 60 }],
    [{ kind: "cookie", name: "b" }],
    [
      { kind: "cookie", name: "a" },
      { kind: "header", name: "x-h" },
    ],
  ] as const;
  const cookieFields = ["a=1", "a=2; b=3", "b=3", 'a=""', "", "x=1; a=1"];

  it("answers every request as computeHash without a memo, whatever the sequence of Cookie fields and policies", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            policies: fc.constantFrom(...policies),
            fields: fc.array(fc.constantFrom(...cookieFields), { maxLength: 2 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (requests) => {
          const memo = {};
          for (const r of requests) {
            const headers: [string, string][] = [
              ["x-h", "v"],
              ...r.fields.map((f): [string, string] => ["cookie", f]),
            ];
            const expected = computeHash(r.policies, { ...request(headers), ...addresses });
            assert.deepEqual(computeHash(r.policies, { ...request(headers), ...addresses, memo }), expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
