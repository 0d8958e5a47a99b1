/**
 * Go's time.ParseDuration, which is how both halves of Istio's admission read a duration string: the
 * CRD's CEL `duration()` (cel-go) and istiod's decoder (golang/protobuf jsonpb). So `30m`, `1h30m`,
 * `1.5s`, `500ms` and the bare `0` are durations; `1d`, `5 s` and `` are not. Errors carry Go's text.
 *
 * Nanoseconds as a bigint: Go's int64 range (about 292 years) is part of what is valid.
 */

const UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 MICRO SIGN
  μs: 1_000n, // U+03BC GREEK SMALL LETTER MU
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_NS = (1n << 63n) - 1n;
/** A negative duration may reach -2^63, one further than a positive one. */
const MAX_NEGATIVE_NS = 1n << 63n;
export const NS_PER_MS = 1_000_000n;
export const NS_PER_SECOND = 1_000_000_000n;

export type GoDuration = { readonly ns: bigint } | { readonly error: string };

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/**
 * The time package's own quote() for its errors (not strconv.Quote): `"` and `\` escaped, and each
 * UTF-8 byte of a control or non-ASCII rune as `\xNN` (`"1é"` is `"1\xc3\xa9"`).
 */
function timeQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0) ?? 0;
    if (cp < 0x20 || cp >= 0x80) {
      for (const byte of Buffer.from(c, "utf8")) out += `\\x${byte.toString(16).padStart(2, "0")}`;
    } else out += c === '"' || c === "\\" ? `\\${c}` : c;
  }
  return `${out}"`;
}

/** Parses `text` as Go does; `{error}` holds Go's message (`time: invalid duration "abc"`). */
export function parseGoDuration(text: string): GoDuration {
  const invalid = { error: `time: invalid duration ${timeQuote(text)}` };
  let s = text;
  let negative = false;
  if (s[0] === "-" || s[0] === "+") {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return { ns: 0n };
  if (s === "") return invalid;
  const limit = negative ? MAX_NEGATIVE_NS : MAX_NS;
  let total = 0n;
  while (s !== "") {
    if (s[0] !== "." && !isDigit(s[0])) return invalid;
    let i = 0;
    while (isDigit(s[i])) i++;
    const whole = s.slice(0, i);
    s = s.slice(i);
    let fraction = "";
    if (s[0] === ".") {
      let j = 1;
      while (isDigit(s[j])) j++;
      fraction = s.slice(1, j);
      s = s.slice(j);
      if (whole === "" && fraction === "") return invalid;
    } else if (whole === "") {
      return invalid;
    }
    let u = 0;
    while (u < s.length && s[u] !== "." && !isDigit(s[u])) u++;
    const unitName = s.slice(0, u);
    s = s.slice(u);
    if (unitName === "") return { error: `time: missing unit in duration ${timeQuote(text)}` };
    const unit = UNITS[unitName];
    if (unit === undefined) {
      return { error: `time: unknown unit ${timeQuote(unitName)} in duration ${timeQuote(text)}` };
    }
    const v = BigInt(whole || "0");
    if (v > limit / unit) return invalid;
    let part = v * unit;
    if (fraction !== "") {
      // Go keeps at most the digits that fit an int64 and scales in floating point, truncating.
      let f = 0n;
      let scale = 1;
      for (const digit of fraction) {
        const next = f * 10n + BigInt(digit);
        if (next > MAX_NS) break;
        f = next;
        scale *= 10;
      }
      part += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (part > limit) return invalid;
    }
    total += part;
    if (total > limit) return invalid;
  }
  return { ns: negative ? -total : total };
}

/**
 * istiod's ValidateDuration (pkg/config/validation/agent): at least 1ms and a whole number of
 * milliseconds. Undefined when it passes, else the webhook's message.
 */
export function webhookDurationProblem(ns: bigint): string | undefined {
  if (ns < NS_PER_MS) return "duration must be greater than 1ms";
  if (ns % NS_PER_MS !== 0n) return "only durations to ms precision are supported";
  return undefined;
}
