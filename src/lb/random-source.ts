/**
 * The injected source of 64-bit random numbers (Envoy's `Random::RandomGenerator::random()`).
 * Balancers never read a clock or Math.random themselves, so tests can replay Envoy's mocked draws.
 */
import { joinUint64 } from "./uint64.js";

export type RandomSource = () => bigint;

/**
 * A seeded generator for simulations, the CLI and default balancers: xoshiro128** on 32-bit
 * integers, two outputs per 64-bit draw, so a draw costs no bigint arithmetic. Reproducible for a
 * given seed; not cryptographic (Envoy's own generator is not either).
 */
export function seededRandom(seed: number | bigint): RandomSource {
  // splitmix32 spreads the seed over the 128-bit state so nearby seeds give unrelated streams.
  let x = Number(BigInt.asUintN(32, BigInt(seed))) | 0;
  const splitmix = () => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  return () => joinUint64(next(), next());
}

function rotl(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
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
