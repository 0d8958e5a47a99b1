import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAnswer } from "../../src/check/answer.js";

test("the walkthrough's own `1th` form and correct ordinals both parse", () => {
  assert.deepEqual(parseAnswer("Hostname: session-deployment-58b4547d8d-hxwxk<br>\n1th time access.\n"), {
    hostname: "session-deployment-58b4547d8d-hxwxk",
    count: 1,
  });
  assert.deepEqual(parseAnswer("Hostname: p<br>\r\n22nd time access."), { hostname: "p", count: 22 });
  assert.deepEqual(parseAnswer("Hostname: p<br>\n113th time access.\n"), { hostname: "p", count: 113 });
});

test("the JSON form parses", () => {
  assert.deepEqual(parseAnswer('{"hostname":"pod-1","count":7}'), { hostname: "pod-1", count: 7 });
});

test("anything else is unparsable", () => {
  for (const body of [
    "",
    "no healthy upstream",
    "Hostname: p<br>",
    "{",
    '{"hostname":1,"count":2}',
    "<html>503</html>",
  ]) {
    assert.equal(parseAnswer(body), undefined, body);
  }
});
