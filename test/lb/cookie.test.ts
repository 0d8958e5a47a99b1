import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { makeSetCookieValue, parseCookieValue } from "../../src/lb/cookie.js";

// Expectations from Envoy's test/common/http/utility_test.cc (HttpUtility.TestParseCookie*,
// TestMakeSetCookieValue).
describe("parseCookieValue (Envoy HttpUtility tests)", () => {
  it("TestParseCookie: finds a cookie in the second of several Cookie headers", () => {
    const headers = [
      ["someheader", "10.0.0.1"],
      ["cookie", "somekey=somevalue; someotherkey=someothervalue"],
      ["cookie", "abc=def; token=abc123; Expires=Wed, 09 Jun 2021 10:18:14 GMT"],
      ["cookie", "key2=value2; key3=value3"],
    ] as const;
    assert.equal(parseCookieValue(headers, "token"), "abc123");
  });

  it("TestParseCookieDuplicates: the first match wins, even when it is empty", () => {
    const headers = [
      ["cookie", "a=; b=1; a=2"],
      ["cookie", "a=3; b=2"],
      ["cookie", "b=3"],
    ] as const;
    assert.equal(parseCookieValue(headers, "a"), "");
    assert.equal(parseCookieValue(headers, "b"), "1");
  });

  it("TestParseCookieBadValues: stray separators and '=' pieces are skipped", () => {
    const headers = [
      ["cookie", "token1=abc123; = "],
      ["cookie", "token2=abc123;   "],
      ["cookie", "; token3=abc123;"],
      ["cookie", '=; token4="abc123"'],
    ] as const;
    for (const name of ["token1", "token2", "token3", "token4"])
      assert.equal(parseCookieValue(headers, name), "abc123");
  });

  it("TestParseCookieWithQuotes: exactly one surrounding pair of quotes is stripped", () => {
    const headers = [
      ["cookie", 'dquote="; quoteddquote="""'],
      ["cookie", 'leadingdquote="foobar;'],
      ["cookie", 'abc=def; token="abc123"; Expires=Wed, 09 Jun 2021 10:18:14 GMT'],
    ] as const;
    assert.equal(parseCookieValue(headers, "token"), "abc123");
    assert.equal(parseCookieValue(headers, "dquote"), '"');
    assert.equal(parseCookieValue(headers, "quoteddquote"), '"');
    assert.equal(parseCookieValue(headers, "leadingdquote"), '"foobar');
  });

  it("absent cookies read as the empty string", () => {
    assert.equal(parseCookieValue([["cookie", "a=1"]], "b"), "");
    assert.equal(parseCookieValue([], "b"), "");
  });
});

describe("makeSetCookieValue (Envoy HttpUtility.TestMakeSetCookieValue)", () => {
  it("quotes the value and orders Max-Age, Path, attributes, HttpOnly", () => {
    assert.equal(makeSetCookieValue("name", "value", "", 10, false), 'name="value"; Max-Age=10');
    assert.equal(makeSetCookieValue("name", "value", "", 0, false), 'name="value"');
    assert.equal(makeSetCookieValue("name", "value", "", 10, true), 'name="value"; Max-Age=10; HttpOnly');
    assert.equal(makeSetCookieValue("name", "value", "", 0, true), 'name="value"; HttpOnly');
    assert.equal(makeSetCookieValue("name", "value", "/", 10, false), 'name="value"; Max-Age=10; Path=/');
    assert.equal(makeSetCookieValue("name", "value", "/", 0, false), 'name="value"; Path=/');
    assert.equal(
      makeSetCookieValue("name", "value", "/", 10, true),
      'name="value"; Max-Age=10; Path=/; HttpOnly',
    );
    assert.equal(makeSetCookieValue("name", "value", "/", 0, true), 'name="value"; Path=/; HttpOnly');
    const attributes = [
      { name: "SameSite", value: "None" },
      { name: "Secure", value: "" },
      { name: "Partitioned" },
    ];
    assert.equal(
      makeSetCookieValue("name", "value", "/", 0, true, attributes),
      'name="value"; Path=/; SameSite=None; Secure; Partitioned; HttpOnly',
    );
  });
});

describe("parseCookieValue agrees with Envoy's algorithm written out piece by piece", () => {
  // Envoy's loop, literally: split on ';', skip empty pieces and pieces without '=', skip leading
  // spaces of the name, first exact match wins, one pair of surrounding quotes dropped.
  function reference(header: string, name: string): string {
    for (const piece of header.split(";")) {
      const equals = piece.indexOf("=");
      if (piece === "" || equals < 0) continue;
      let start = 0;
      while (piece[start] === " ") start++;
      if (piece.slice(start, equals) !== name) continue;
      const value = piece.slice(equals + 1);
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    }
    return "";
  }

  it("for any header built of names, spaces, quotes, '=' and ';'", () => {
    const part = fc.constantFrom("a", "b", "ab", " ", "=", ";", '"', "", "x y");
    fc.assert(
      fc.property(fc.array(part, { maxLength: 16 }), fc.constantFrom("a", "b", "ab", ""), (parts, name) => {
        const header = parts.join("");
        assert.equal(
          parseCookieValue([["cookie", header]], name),
          reference(header, name),
          JSON.stringify(header),
        );
      }),
      { numRuns: 2000 },
    );
  });
});
