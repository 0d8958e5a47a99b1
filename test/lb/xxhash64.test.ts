import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { xxh64, xxh64Chain } from "../../src/lb/xxhash64.js";

describe("xxh64", () => {
  it("matches the published XXH64 vectors and Envoy's hash_test.cc expectations", () => {
    const vectors: [string, bigint][] = [
      ["", 17241709254077376921n],
      ["a", 15154266338359012955n],
      ["abc", 4952883123889572249n],
      ["foo", 3728699739546630719n],
      ["bar", 5234164152756840025n],
      ["foo\nbar", 8917841378505826757n],
      ["lyft", 4400747396090729504n],
      ["hello", 2794345569481354659n],
      ["Nobody inspects the spammish repetition", 18144624926692707313n],
    ];
    for (const [input, expected] of vectors) assert.equal(xxh64(input), expected, JSON.stringify(input));
  });

  it("uses the seed as XXH64 does", () => {
    assert.equal(xxh64("", 1n), 0xd5afba1336a3be4bn);
    assert.equal(xxh64("abc", 1n), 0xbea9ca8199328908n);
  });

  it("hashes a list by chaining seeds, not by concatenation (Envoy hash_test.cc)", () => {
    assert.equal(xxh64Chain(["foo", "bar"]), 17745830980996999794n);
    assert.equal(xxh64Chain(["foo", "bar"]), xxh64("bar", xxh64("foo")));
    assert.notEqual(xxh64Chain(["foo", "bar"]), xxh64("foobar"));
  });
});
