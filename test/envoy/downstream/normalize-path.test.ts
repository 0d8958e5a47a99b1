import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { normalizePath } from "../../../src/envoy/downstream/normalize-path.js";

describe("normalizePath (Envoy's normalize_path, Istio's default BASE)", () => {
  it("leaves paths that are already canonical alone, query included", () => {
    for (const path of [
      "/",
      "/xyz",
      "/x/y/z",
      "/user?x=1&y=/../z",
      "/A/B/C",
      "/a/",
      "/.well-known/x",
      "/a..b/c.",
    ])
      assert.equal(normalizePath(path), path);
  });

  it("removes dot segments and never climbs above the root, as Envoy's path_utility tests expect", () => {
    const cases: [string, string][] = [
      ["/a/b/../c", "/a/c"],
      ["/a/b/./c", "/a/b/c"],
      ["/a/b/../../../../c", "/c"],
      ["/a/..\\c", "/c"],
      ["/a/b/%2E%2E/c", "/a/c"],
      ["/a/b/%2e%2e/c", "/a/c"],
      ["/a/b/%2E./c", "/a/c"],
      ["/a/b/%2E/c", "/a/b/c"],
      ["/../a/b", "/a/b"],
      ["/./a/b", "/a/b"],
      ["/a/b/..", "/a/"],
      ["/a/b/.", "/a/b/"],
      ["/..", "/"],
      ["/a/./../user?next=/a/../b", "/user?next=/a/../b"],
    ];
    for (const [given, expected] of cases) assert.equal(normalizePath(given), expected, given);
  });

  it("decodes escaped unreserved characters and keeps every other escape exactly, hex case included", () => {
    const cases: [string, string][] = [
      ["/%75ser", "/user"],
      ["/a%2Db%5F%7E", "/a-b_~"],
      ["/%c0%af", "/%c0%af"],
      ["/%5c%25", "/%5c%25"],
      ["/a/%2F%2f/c", "/a/%2F%2f/c"],
      ["/a%2Eb", "/a.b"],
      ["/a%zz", "/a%zz"],
      ["/a%", "/a%"],
      ["/a%4", "/a%4"],
    ];
    for (const [given, expected] of cases) assert.equal(normalizePath(given), expected, given);
  });

  it("never turns an invalid escape into a valid one by decoding what follows it: its % becomes %25", () => {
    const cases: [string, string][] = [
      ["/public/%%32%65%%32%65/admin", "/public/%252e%252e/admin"],
      ["/x/%%30%30", "/x/%2500"],
      ["/%%41B", "/%25AB"],
      ["/%%4G", "/%%4G"],
      ["/%%41", "/%A"],
    ];
    for (const [given, expected] of cases) assert.equal(normalizePath(given), expected, given);
  });

  it("turns a literal backslash into a slash and escapes characters a path cannot hold, with uppercase hex", () => {
    assert.equal(normalizePath("/a\\b"), "/a/b");
    assert.equal(normalizePath('/a b"<>`{|}^'), "/a%20b%22%3C%3E%60%7B%7C%7D%5E");
    assert.equal(normalizePath("/caf\u00e9"), "/caf%E9");
  });

  it("rejects a NUL, literal or escaped (also when an invalid escape hides it), and a fragment", () => {
    for (const path of [
      "/xyz/.%00../abc",
      "/xyz/%00.%00./abc",
      "/xyz/AAAAA%%0000/abc",
      "/a\u0000b",
      "/user#top",
    ])
      assert.equal(normalizePath(path), undefined, JSON.stringify(path));
  });

  it("leaves targets that are not origin-form alone", () => {
    assert.equal(normalizePath("*"), "*");
    assert.equal(normalizePath("http://example.com/a/../b"), "http://example.com/a/../b");
  });

  it("is idempotent and always yields a path that starts with a slash and holds no dot segment", () => {
    const segment = fc.constantFrom(
      ".",
      "..",
      "%2e",
      "%2E%2e",
      "a",
      "b.",
      ".c",
      "%41",
      "%2f",
      "%zz",
      "x\\y",
      "",
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.constantFrom("", "?q=/../x"), (segments, query) => {
        const once = normalizePath(`/${segments.join("/")}${query}`);
        assert.ok(once !== undefined);
        assert.equal(normalizePath(once), once);
        const path = once.split("?")[0] as string;
        assert.ok(path.startsWith("/"));
        assert.ok(!path.split("/").some((s) => s === "." || s === ".."), once);
        assert.ok(once.endsWith(query));
      }),
      { numRuns: 500 },
    );
  });
});
