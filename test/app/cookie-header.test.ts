import assert from "node:assert/strict";
import { test } from "node:test";
import { readCookie } from "../../src/app/cookie-header.js";

test("the first cookie with the exact name wins, with surrounding spaces and one pair of quotes removed", () => {
  assert.equal(readCookie("a=1; sid=abc; sid=def", "sid"), "abc");
  assert.equal(readCookie('  sid = "abc" ', "sid"), "abc");
  assert.equal(readCookie("xsid=1; sidx=2; sid=3", "sid"), "3");
  assert.equal(readCookie(["a=1", "sid=2"], "sid"), "2");
});

test("absent, nameless or broken pieces mean no cookie", () => {
  for (const header of [undefined, "", ";;;", "sid", "=sid", "a=1;b", "Sid=1"]) {
    assert.equal(readCookie(header, "sid"), undefined, String(header));
  }
  assert.equal(readCookie("sid=", "sid"), "");
});
