/**
 * XXH64, the hash Envoy uses everywhere on the affinity path (`HashUtil::xxHash64`, seed 0 unless
 * stated): ring entries, Maglev offsets/skips, header/cookie/IP/query hashes and generated cookies.
 * Backed by @node-rs/xxhash (native, returns bigint); bench/lb.ts compares it with alternatives.
 */
import { xxh64 as nativeXxh64 } from "@node-rs/xxhash";

export type HashInput = string | Uint8Array;

/** Classic XXH64 of the UTF-8 bytes of `input` (or the bytes themselves). */
export function xxh64(input: HashInput, seed = 0n): bigint {
  return seed === 0n ? nativeXxh64(input) : nativeXxh64(input, seed);
}

/**
 * Envoy's hash of a list of strings: each value is hashed with the previous result as its seed.
 * This is not the hash of the concatenation; repeated headers rely on the difference.
 */
export function xxh64Chain(values: readonly HashInput[]): bigint {
  let hash = 0n;
  for (const value of values) hash = xxh64(value, hash);
  return hash;
}
