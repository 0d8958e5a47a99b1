/**
 * StringMatch checks of istiod's VirtualService validation (istio/istio
 * pkg/config/validation/validation.go: validateStringMatch, validateStringMatchRegexp,
 * validateStringRegexp) with Istio's messages. Istio compiles regexes with Go's regexp package;
 * re2js is a port of the same RE2 parser and fails with Go's error text, which Istio quotes; the
 * messages of src/re2.ts are reworded, so a refused pattern is compiled again here for Go's.
 */
import { RE2JS, RE2JSSyntaxException } from "re2js";
import { get } from "../manifests/json-path.js";
import { MAX_REGEX_BYTES, re2Problem } from "../re2.js";
import { goQuote } from "./istio-names.js";

export type StringMatchType = "exact" | "prefix" | "regex";

export interface StringMatchValue {
  /** Which member of the oneof is set; undefined for `{}`. */
  readonly type: StringMatchType | undefined;
  readonly value: string;
}

/**
 * A StringMatch as istiod's decoder reads it: a member given as `null` is unset; when several are
 * given (which the CRD schema refuses) the decoder sets them in field order, so the last wins.
 */
export function readStringMatch(match: unknown): StringMatchValue {
  let found: StringMatchValue = { type: undefined, value: "" };
  for (const type of ["exact", "prefix", "regex"] as const) {
    const value = get(match, type);
    if (typeof value === "string") found = { type, value };
  }
  return found;
}

const RE2_SYNTAX = "Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)";

/**
 * validateStringRegexp: at most 1024 bytes (Istio's stand-in for Envoy's RE2 program size limit,
 * which Go cannot compute), then Go's regexp.Compile.
 */
export function regexProblem(re: string, where: string): string | undefined {
  if (Buffer.byteLength(re, "utf8") > MAX_REGEX_BYTES) {
    return `${goQuote(where)}: regex is too large, max length allowed is ${MAX_REGEX_BYTES}`;
  }
  // The accepted ones are compiled (and kept) by the same engine the mesh runs them on.
  if (re === "" || re2Problem(re) === undefined) return undefined;
  try {
    RE2JS.compile(re);
    return undefined;
  } catch (error) {
    return `${goQuote(where)}: ${goRegexpError(error, re)}; ${RE2_SYNTAX}`;
  }
}

const TRAILING_BACKSLASH = "trailing backslash at end of expression";

/**
 * Go's regexp/syntax Error text, `error parsing regexp: <code>: `<expr>``. re2js writes the same but
 * leaves out an empty or unset expression; Go always prints it — empty after a trailing backslash,
 * the whole pattern when it is too large or too deeply nested.
 */
function goRegexpError(error: unknown, re: string): string {
  if (!(error instanceof RE2JSSyntaxException)) return error instanceof Error ? error.message : String(error);
  const expr = error.input || (error.error === TRAILING_BACKSLASH ? "" : re);
  return `error parsing regexp: ${error.error}: \`${expr}\``;
}

/** validateStringMatchRegexp: only a regex match is checked; an empty regex is refused. */
export function stringMatchRegexProblem(match: unknown, where: string): string | undefined {
  const { type, value } = readStringMatch(match);
  if (type !== "regex") return undefined;
  if (value === "") return `${goQuote(where)}: regex string match should not be empty`;
  return regexProblem(value, where);
}

/** validateStringMatch: the regex checks, and an empty prefix is refused (Envoy's StringMatcher). */
export function stringMatchProblem(match: unknown, where: string): string | undefined {
  const { type, value } = readStringMatch(match);
  if (type === "prefix" && value === "") return `${goQuote(where)}: prefix string match should not be empty`;
  return stringMatchRegexProblem(match, where);
}
