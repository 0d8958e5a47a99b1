/**
 * The injected source of 64-bit random numbers (Envoy's `Random::RandomGenerator::random()`).
 * Balancers never read a clock or Math.random themselves, so tests can replay Envoy's mocked draws.
 */

export type RandomSource = () => bigint;

/**
 * A seeded generator (splitmix64) for simulations and the CLI: reproducible for a given seed.
 * Not cryptographic; Envoy's own generator is not either.
 */
export function seededRandom(seed: number | bigint): RandomSource {
  let state = BigInt.asUintN(64, BigInt(seed));
  return () => {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  };
}

/** Replays fixed draws in order (then repeats the last), like a gmock `WillOnce` chain. */
export function sequenceRandom(draws: readonly bigint[]): RandomSource {
  let next = 0;
  return () => {
    const value = draws[Math.min(next, draws.length - 1)];
    next++;
    if (value === undefined) throw new RangeError("sequenceRandom needs at least one draw");
    return value;
  };
}
