import assert from "node:assert/strict";
import { test } from "node:test";
import { requestFields } from "../../src/app/request-fields.js";

test("Cookie and Accept are found in any letter case, and other fields are ignored", () => {
  assert.deepEqual(
    requestFields(["Host", "a", "COOKIE", "sid=1", "x-cookie", "no", "Accept", "text/html", "Cookies", "no"]),
    { cookie: "sid=1", accept: "text/html" },
  );
});

test("repeated fields are joined as Node joins them: Cookie with '; ', Accept with ', '", () => {
  assert.deepEqual(
    requestFields(["cookie", "a=1", "accept", "text/html", "Cookie", "sid=2", "accept", "application/json"]),
    { cookie: "a=1; sid=2", accept: "text/html, application/json" },
  );
});

test("absent fields are undefined, and an empty value is kept", () => {
  assert.deepEqual(requestFields([]), { cookie: undefined, accept: undefined });
  assert.deepEqual(requestFields(["cookie", ""]), { cookie: "", accept: undefined });
});
