import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { SessionAffinityError, SYSTEM_ERROR_CODES, USER_ERROR_CODES } from "../src/errors.js";

test("docs/errors.md lists exactly the codes in src/errors.ts, each with its kind", async () => {
  const doc = await readFile(join(import.meta.dirname, "..", "docs", "errors.md"), "utf8");
  const rows = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` *\| (user|system) *\|/gm)].map((m) => `${m[1]} ${m[2]}`);
  const expected = [
    ...Object.keys(USER_ERROR_CODES).map((c) => `${c} user`),
    ...Object.keys(SYSTEM_ERROR_CODES).map((c) => `${c} system`),
  ];
  assert.deepEqual(rows.sort(), expected.sort());
});

test("user errors and system errors are told apart", () => {
  assert.equal(new SessionAffinityError("ERR_USAGE", "x").isUserError, true);
  assert.equal(new SessionAffinityError("ERR_STORE_UNAVAILABLE", "x").isUserError, false);
});
