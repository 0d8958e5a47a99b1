import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseGoDuration, webhookDurationProblem } from "../../src/validation/go-duration.js";

// Go's own table for time.ParseDuration (golang/go src/time/time_test.go, parseDurationTests and
// parseDurationErrorTests), which istiod's decoder and the CRDs' CEL duration() both use.
const S = 1_000_000_000n;
const VALID: readonly [string, bigint][] = [
  ["0", 0n],
  ["5s", 5n * S],
  ["30s", 30n * S],
  ["1478s", 1478n * S],
  ["-5s", -5n * S],
  ["+5s", 5n * S],
  ["-0", 0n],
  ["+0", 0n],
  ["5.0s", 5n * S],
  ["5.6s", 5n * S + 600_000_000n],
  ["5.s", 5n * S],
  [".5s", 500_000_000n],
  ["1.0s", S],
  ["1.00s", S],
  ["1.004s", S + 4_000_000n],
  ["1.0040s", S + 4_000_000n],
  ["100.00100s", 100n * S + 1_000_000n],
  ["10ns", 10n],
  ["11us", 11_000n],
  ["12µs", 12_000n],
  ["12μs", 12_000n],
  ["13ms", 13_000_000n],
  ["14s", 14n * S],
  ["15m", 15n * 60n * S],
  ["16h", 16n * 3600n * S],
  ["3h30m", (3n * 3600n + 30n * 60n) * S],
  ["10.5s4m", 4n * 60n * S + 10n * S + 500_000_000n],
  ["-2m3.4s", -(2n * 60n * S + 3n * S + 400_000_000n)],
  ["1h2m3s4ms5us6ns", 3600n * S + 2n * 60n * S + 3n * S + 4_000_000n + 5_000n + 6n],
  ["39h9m14.425s", (39n * 3600n + 9n * 60n + 14n) * S + 425_000_000n],
  ["52763797000ns", 52763797000n],
  ["0.3333333333333333333h", 20n * 60n * S],
  ["9007199254740993ns", 9007199254740993n],
  ["9223372036854775807ns", (1n << 63n) - 1n],
  ["9223372036854775.807us", (1n << 63n) - 1n],
  ["9223372036854.775807ms", (1n << 63n) - 1n],
  ["-9223372036854775808ns", -(1n << 63n)],
  ["-9223372036854775.808us", -(1n << 63n)],
  ["0.100000000000000000000h", 6n * 60n * S],
  ["0.830103483285477580700h", (49n * 60n + 48n) * S + 372539827n],
];
const INVALID: readonly [string, string][] = [
  ["", 'time: invalid duration ""'],
  ["3", 'time: missing unit in duration "3"'],
  ["-", 'time: invalid duration "-"'],
  ["s", 'time: invalid duration "s"'],
  [".", 'time: invalid duration "."'],
  ["-.", 'time: invalid duration "-."'],
  [".s", 'time: invalid duration ".s"'],
  ["+.s", 'time: invalid duration "+.s"'],
  ["1d", 'time: unknown unit "d" in duration "1d"'],
  ["5 s", 'time: unknown unit " s" in duration "5 s"'],
  ["9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'],
  ["9223372036854775.808us", 'time: invalid duration "9223372036854775.808us"'],
  ["9223372036854ms775us808ns", 'time: invalid duration "9223372036854ms775us808ns"'],
  ["-9223372036854775809ns", 'time: invalid duration "-9223372036854775809ns"'],
  // The time package quotes with its own quote(): each byte of a non-ASCII or control rune as \xNN.
  ["1é", 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'],
  ['1"\t', 'time: unknown unit "\\"\\x09" in duration "1\\"\\x09"'],
];

describe("Go durations (time.ParseDuration)", () => {
  it("reads every duration of Go's table to the nanosecond", () => {
    for (const [text, ns] of VALID) assert.deepEqual(parseGoDuration(text), { ns }, text);
  });

  it("refuses what Go refuses, with Go's message", () => {
    for (const [text, error] of INVALID)
      assert.deepEqual(parseGoDuration(text), { error }, JSON.stringify(text));
  });
});

describe("istiod's ValidateDuration (agent/validation_test.go TestValidateDuration)", () => {
  it("takes whole milliseconds from 1ms up and refuses less or finer", () => {
    const ms = 1_000_000n;
    assert.equal(webhookDurationProblem(ms), undefined);
    assert.equal(webhookDurationProblem(2n * S), undefined);
    assert.equal(webhookDurationProblem(0n), "duration must be greater than 1ms");
    assert.equal(webhookDurationProblem(-S), "duration must be greater than 1ms");
    assert.equal(webhookDurationProblem(999_999n), "duration must be greater than 1ms");
    assert.equal(webhookDurationProblem(2n * S + 5n), "only durations to ms precision are supported");
  });
});
