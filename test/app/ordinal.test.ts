import assert from "node:assert/strict";
import { test } from "node:test";
import { ordinal } from "../../src/app/ordinal.js";

test("ordinals follow English rules, including the teens and hundreds", () => {
  const cases: [number, string][] = [
    [1, "1st"],
    [2, "2nd"],
    [3, "3rd"],
    [4, "4th"],
    [10, "10th"],
    [11, "11th"],
    [12, "12th"],
    [13, "13th"],
    [21, "21st"],
    [22, "22nd"],
    [23, "23rd"],
    [100, "100th"],
    [101, "101st"],
    [111, "111th"],
    [112, "112th"],
    [1002, "1002nd"],
    [1013, "1013th"],
  ];
  for (const [n, expected] of cases) assert.equal(ordinal(n), expected);
});
