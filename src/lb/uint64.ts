/**
 * 64-bit helpers. Hashes are bigint at the API edge, but the hot paths (ring lookup, Maglev slot)
 * work on two 32-bit numbers so a pick does not allocate bigints.
 */

export const UINT64_MAX = (1n << 64n) - 1n;

const scratch = new BigUint64Array(1);
const halves = new Uint32Array(scratch.buffer);
// Typed arrays use the platform byte order; find which half holds the high word once.
const HIGH = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;
const LOW = 1 - HIGH;

/** Splits a uint64 into [high 32 bits, low 32 bits] as numbers. */
export function splitUint64(value: bigint): [number, number] {
  scratch[0] = value;
  return [halves[HIGH] as number, halves[LOW] as number];
}

export function joinUint64(high: number, low: number): bigint {
  halves[HIGH] = high;
  halves[LOW] = low;
  return scratch[0] as bigint;
}

/** (high·2^32 + low) mod m for m < 2^37, exact in doubles. */
export function modUint64(high: number, low: number, m: number): number {
  return ((((high % m) * 65536) % m) * 65536 + low) % m;
}

/** Envoy's Hex::uint64ToHex: 16 lower-case digits, zero padded. */
export function toHex16(value: bigint): string {
  return value.toString(16).padStart(16, "0");
}

export function rotateLeft1(value: bigint): bigint {
  return ((value << 1n) | (value >> 63n)) & UINT64_MAX;
}

export function isUint64(value: bigint): boolean {
  return value >= 0n && value <= UINT64_MAX;
}
