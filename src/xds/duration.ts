/**
 * google.protobuf.Duration in proto3 JSON ("10s", "1.500s", "0.000100s"): what both halves of the
 * contract read. A malformed value is refused with the field it came from.
 */
import { SessionAffinityError } from "../errors.js";

const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

/** Nanoseconds of a proto3 JSON Duration. */
export function durationNanos(text: string, field: string): bigint {
  const m = DURATION.exec(text);
  if (!m) throw new SessionAffinityError("ERR_XDS", `${field}: "${text}" is not a Duration such as "10s"`);
  const nanos = BigInt(m[2] as string) * 1_000_000_000n + BigInt((m[3] ?? "").padEnd(9, "0") || "0");
  return m[1] ? -nanos : nanos;
}

/** Milliseconds of a Duration (fractions of a millisecond kept). */
export function durationMs(text: string, field: string): number {
  return Number(durationNanos(text, field)) / 1e6;
}

/** Whole seconds of a Duration, as Envoy's DurationUtil::durationToSeconds truncates. */
export function durationWholeSeconds(text: string, field: string): number {
  return Number(durationNanos(text, field) / 1_000_000_000n);
}
