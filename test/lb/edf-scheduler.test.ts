import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EdfScheduler } from "../../src/lb/edf-scheduler.js";
import { seededRandom } from "../../src/lb/random-source.js";

// Expectations from Envoy's test/common/upstream/edf_scheduler_test.cc. Items are 0 … n − 1 here;
// the weight functions are the tests' own.

/** A scheduler built by adding every item, then making `picks` picks (what createWithPicks stands for). */
function picked(weights: readonly number[], picks: number): EdfScheduler {
  const scheduler = new EdfScheduler();
  for (const [item, w] of weights.entries()) scheduler.add(item, w);
  for (let i = 0; i < picks; i++) scheduler.pickAndAdd((item) => weights[item] as number);
  return scheduler;
}

/** Envoy's comparison: the same items waiting in the same order, deadlines within 1e-5. */
function assertSameQueue(built: EdfScheduler, naive: EdfScheduler, what: string): void {
  const a = built.queue();
  const b = naive.queue();
  assert.deepEqual(
    a.map((e) => e.item),
    b.map((e) => e.item),
    what,
  );
  for (const [i, e] of a.entries()) {
    assert.ok(Math.abs(e.deadline - (b[i]?.deadline ?? Number.NaN)) < 1e-5, `${what}: deadline of ${e.item}`);
  }
}

function next(scheduler: EdfScheduler, weights: readonly number[], n: number): number[] {
  return Array.from({ length: n }, () => scheduler.pickAndAdd((item) => weights[item] as number) as number);
}

describe("EDF scheduler (Envoy EdfSchedulerTest)", () => {
  it("Empty: picks nothing", () => {
    assert.equal(
      new EdfScheduler().pickAndAdd(() => 1),
      undefined,
    );
  });

  it("Unweighted: equal weights are served first in, first out", () => {
    const scheduler = new EdfScheduler();
    for (let i = 0; i < 128; i++) scheduler.add(i, 1);
    for (let round = 0; round < 128; round++) {
      for (let i = 0; i < 128; i++)
        assert.equal(
          scheduler.pickAndAdd(() => 1),
          i,
        );
    }
  });

  it("Weighted: over 8,256 picks item i (weight i + 1) is picked exactly i + 1 times", () => {
    const scheduler = new EdfScheduler();
    for (let i = 0; i < 128; i++) scheduler.add(i, i + 1);
    const counts = new Array<number>(128).fill(0);
    for (let i = 0; i < (128 * 129) / 2; i++) {
      const item = scheduler.pickAndAdd((x) => x + 1) as number;
      counts[item] = (counts[item] ?? 0) + 1;
    }
    assert.deepEqual(
      counts,
      Array.from({ length: 128 }, (_, i) => i + 1),
    );
  });

  it("SchedulerWithZeroPicksEqualToEmptyWithAddedEntries: zero picks is every item added in order", () => {
    const weights = Array.from({ length: 128 }, (_, i) => i + 1);
    const naive = picked(weights, 0);
    assertSameQueue(
      EdfScheduler.createWithPicks(128, (i) => weights[i] as number, 0n),
      naive,
      "0 picks",
    );
  });

  it("SchedulerWithSomePicksEqualToEmptyWithAddedEntries: 5, 140, 501, 123456 and 894571 picks", () => {
    const weights = Array.from({ length: 128 }, (_, i) => ((100.5 - 0.01) / 128) * i + 0.01);
    for (const picks of [5, 140, 501, 123456, 894571]) {
      const naive = picked(weights, picks);
      const built = EdfScheduler.createWithPicks(128, (i) => weights[i] as number, BigInt(picks));
      assertSameQueue(built, naive, `${picks} picks`);
    }
  });

  it("SchedulerWithSomePicksEmptyEntries: no items, nothing picked", () => {
    assert.equal(
      EdfScheduler.createWithPicks(0, () => 1, 123n).pickAndAdd(() => 1),
      undefined,
    );
  });

  it("the seed's low 32 bits modulo 429,496,729 are the picks made", () => {
    const weights = [1, 2];
    const wf = (i: number) => weights[i] as number;
    for (const [seed, picks] of [
      [2n ** 32n + 1n, 1n],
      [429496731n, 2n],
      [2n ** 64n - 1n, 5n],
    ] as const) {
      assert.deepEqual(
        next(EdfScheduler.createWithPicks(2, wf, seed), weights, 12),
        next(EdfScheduler.createWithPicks(2, wf, picks), weights, 12),
        `seed ${seed}`,
      );
    }
  });

  it("starting ties are decided by the small weight offset, as in Envoy: 6:3:1 with no picks", () => {
    // Equal deadlines of a naive schedule (0, 0, 2 at time 1) are ordered by the offset Envoy adds.
    const weights = [6, 3, 1];
    const wf = (i: number) => weights[i] as number;
    assert.deepEqual(
      next(EdfScheduler.createWithPicks(3, wf, 0n), weights, 10),
      [0, 1, 0, 0, 1, 0, 0, 2, 1, 0],
    );
    assert.deepEqual(next(picked(weights, 0), weights, 10), [0, 1, 0, 0, 1, 0, 0, 0, 2, 1]);
  });

  it("SchedulerWithRandomPicksFirstPickDistribution: the first pick after a rebuild follows the weights within 1 point", () => {
    const random = seededRandom(42);
    for (const weights of [
      [25, 75],
      [1, 99],
      [50, 50],
      [1, 20, 79],
    ]) {
      const iterations = 40_000;
      const firsts = new Array<number>(weights.length).fill(0);
      for (let i = 0; i < iterations; i++) {
        const first = EdfScheduler.createWithPicks(
          weights.length,
          (x) => weights[x] as number,
          random(),
        ).pickAndAdd((x) => weights[x] as number) as number;
        firsts[first] = (firsts[first] ?? 0) + 1;
      }
      for (const [item, w] of weights.entries()) {
        const share = (100 * (firsts[item] ?? 0)) / iterations;
        assert.ok(Math.abs(share - w) <= 1, `weights ${weights}: item ${item} first ${share.toFixed(2)} %`);
      }
    }
  });
});
