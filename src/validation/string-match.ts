/**
 * StringMatch checks of istiod's VirtualService validation (istio/istio
 * pkg/config/validation/validation.go: validateStringMatch, validateStringMatchRegexp,
 * validateStringRegexp) with Istio's messages. Istio compiles regexes with Go's regexp package;
 * re2js is a port of the same RE2 parser and fails with Go's error text, which Istio quotes.
 * (src/mesh/re2.ts runs the accepted ones; its own messages are worded for the project.)
 */
import { RE2JS } from "re2js";
import { get } from "../manifests/json-path.js";
import { MAX_REGEX_BYTES } from "../mesh/re2.js";
import { goQuote } from "./vs-names.js";

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
  try {
    RE2JS.compile(re);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `${goQuote(where)}: ${message}; ${RE2_SYNTAX}`;
  }
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
