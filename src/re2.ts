/**
 * VirtualService regexes as Istio validates them and Envoy runs them: RE2 syntax, matched against
 * the whole value (Envoy's safe_regex with google_re2), in time linear in the input. JavaScript's
 * RegExp backtracks, so a pattern such as `(a+)+b` would let one request hold the gateway for
 * seconds; re2js is a port of RE2 and refuses what RE2 refuses (backreferences, lookaround).
 */
import { RE2JS } from "re2js";

/**
 * Istio refuses regexes over 1024 bytes (pkg/config/validation validateStringRegexp) as a stand-in
 * for Envoy's RE2 program-size limit, which Go cannot compute.
 */
export const MAX_REGEX_BYTES = 1024;

/** The withoutHeaders value Istio turns into present_match instead of compiling it. */
export const PRESENT_MATCH_REGEX = "*";

const compiled = new Map<string, RE2JS>();

function compile(source: string): RE2JS {
  let re = compiled.get(source);
  if (!re) {
    re = RE2JS.compile(source);
    compiled.set(source, re);
  }
  return re;
}

/**
 * Why Istio would refuse `source` as a StringMatch regex, or undefined when it is accepted
 * (validateStringMatchRegexp: not empty, at most 1024 bytes, RE2 syntax).
 */
export function re2Problem(source: string): string | undefined {
  if (source === "") return "must not be empty";
  const bytes = Buffer.byteLength(source, "utf8");
  if (bytes > MAX_REGEX_BYTES) return `is ${bytes} bytes, more than the ${MAX_REGEX_BYTES} Istio allows`;
  try {
    compile(source);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const lookbehind = /\(\?<[=!]/.exec(source);
    // Like Go's regexp, re2js reads "(?<=" as a broken named group; name the lookbehind instead.
    const reason =
      lookbehind && message.includes("invalid named capture")
        ? `invalid or unsupported Perl syntax: \`${lookbehind[0]}\``
        : message.replace(/^error parsing regexp: /, "");
    return `${JSON.stringify(source)} is not RE2 syntax (${escapeControls(reason)})`;
  }
}

/** Whether the whole of `value` matches; `source` must have passed re2Problem. */
export function re2FullMatch(source: string, value: string): boolean {
  return compile(source).testExact(value);
}

// The parser quotes the offending part of the pattern, which may hold a line break.
function escapeControls(text: string): string {
  let out = "";
  for (const c of text) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? JSON.stringify(c).slice(1, -1) : c;
  }
  return out;
}
