/**
 * Durations as istiod hands them to Envoy. The Istio CRDs hold google.protobuf.Duration, which the API
 * server stores as written ("30s", "1.5s", and Go-style "100ms" that Istio's CRD validation also admits);
 * config dumps print proto3 JSON, whose canonical form is seconds with 0, 3, 6 or 9 fraction digits.
 */
import { parseGoDuration } from "../validation/go-duration.js";

/** Nanoseconds of a duration written as in an Istio object ("1800s", "1m30s", "250ms"), as Go reads it. */
export function parseDurationNanos(text: string): bigint {
  const parsed = parseGoDuration(text.trim());
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.ns;
}

/** The proto3 JSON form of a duration (google.protobuf.Duration's canonical "Ns" with 0/3/6/9 digits). */
export function protoDuration(text: string): string {
  return formatNanos(parseDurationNanos(text));
}

export function formatNanos(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const rest = nanos % 1_000_000_000n;
  if (rest === 0n) return `${seconds}s`;
  let frac = rest.toString().padStart(9, "0");
  if (frac.endsWith("000000")) frac = frac.slice(0, 3);
  else if (frac.endsWith("000")) frac = frac.slice(0, 6);
  return `${seconds}.${frac}s`;
}
