/**
 * The name, host, port, percentage and label checks istiod's webhook shares between kinds
 * (istio/istio pkg/config/validation/agent/validation.go and validation.go, pkg/config/labels),
 * each returning Istio's message, or undefined when the value passes. Lengths are Go's `len`, which
 * counts UTF-8 bytes, and `%q` is Go's quoting (goQuote).
 */
import { isIP } from "node:net";

/** pkg/config/labels: dns1123LabelFmt, qualifiedNameFmt, dnsNamePrefixFmt. */
const LABEL_FMT = "[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?";
const QUALIFIED_NAME_FMT = "(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const DNS1123_LABEL = new RegExp(`^${LABEL_FMT}$`);
/** wildcardPrefixRegexp: `*`, `*foo`, `*-foo` or a plain label. */
const WILDCARD_LABEL = new RegExp(`^(?:\\*|(?:\\*|\\*-)?${LABEL_FMT})$`);
/** tagRegexp: an optional DNS-name prefix ending in `/` (group 1), then a qualified name (group 2). */
const TAG_KEY = new RegExp(`^(${LABEL_FMT}(?:\\.${LABEL_FMT})*/)?(${QUALIFIED_NAME_FMT})$`);
/** labelValueRegexp: empty, or a qualified name (no length limit here). */
const LABEL_VALUE = new RegExp(`^(?:${QUALIFIED_NAME_FMT})?$`);
const DNS1123_LABEL_MAX = 63;
const DNS_NAME_MAX = 255;
const DNS_PREFIX_MAX = 253;

/** Go's `len` of a string: its UTF-8 bytes. */
const goLen = (s: string) => Buffer.byteLength(s, "utf8");

/** labels.IsDNS1123Label. */
export function isDns1123Label(value: string): boolean {
  return goLen(value) <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(value);
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Go's strconv.Atoi succeeding (64-bit int): an optional sign, decimal digits, within int64. */
function atoiSucceeds(s: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(s)) return false;
  const n = BigInt(s.startsWith("+") ? s.slice(1) : s);
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** CheckDNS1123Preconditions. */
function dnsPreconditions(name: string): string | undefined {
  if (goLen(name) > DNS_NAME_MAX) return `domain name ${goQuote(name)} too long (max 255)`;
  if (name.length === 0) return "empty domain name not allowed";
  return undefined;
}

/** ValidateDNS1123Labels. */
function dns1123Labels(domain: string): string | undefined {
  const parts = domain.split(".");
  const tld = parts.at(-1) ?? "";
  if (atoiSucceeds(tld)) {
    return `domain name ${goQuote(domain)} invalid (top level domain ${goQuote(tld)} cannot be all-numeric)`;
  }
  for (const [i, label] of parts.entries()) {
    // A trailing dot (a rooted name) leaves an empty last label, which Istio allows.
    if (i === parts.length - 1 && label === "") return undefined;
    if (!isDns1123Label(label))
      return `domain name ${goQuote(domain)} invalid (label ${goQuote(label)} invalid)`;
  }
  return undefined;
}

/** ValidateFQDN. */
export function fqdnProblem(name: string): string | undefined {
  return dnsPreconditions(name) ?? dns1123Labels(name);
}

/** ValidateWildcardDomain: `*`, `*.example.com`, short names; later labels are quoted alone. */
export function wildcardDomainProblem(domain: string): string | undefined {
  const pre = dnsPreconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf(".");
  const first = dot === -1 ? domain : domain.slice(0, dot);
  // labels.IsWildcardDNS1123Label
  if (goLen(first) > DNS1123_LABEL_MAX || !WILDCARD_LABEL.test(first)) {
    return `domain name ${goQuote(domain)} invalid (label ${goQuote(first)} invalid)`;
  }
  return dot === -1 ? undefined : dns1123Labels(domain.slice(dot + 1));
}

/** Go's netip.ParseAddr: no brackets, no ports; an IPv6 zone is allowed. */
export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

/** ValidatePort. */
export function portProblem(port: number): string | undefined {
  return port >= 1 && port <= 65535 ? undefined : `port number ${port} must be in the range 1..65535`;
}

/** ValidatePercent (an int32, printed with `%v` as an integer): 0..100. */
export function percentProblem(value: number): string | undefined {
  return value >= 0 && value <= 100 ? undefined : `percentage ${value} is not in range 0..100`;
}

/** validatePercentage (a Percent message, a float64 printed with `%v`): 0, or 0.0001..100. */
export function percentageProblem(value: number): string | undefined {
  if (value < 0 || value > 100 || (value > 0 && value < 0.0001)) {
    return `percentage ${goNumber(value)} is neither 0.0, nor in range [0.0001, 100.0]`;
  }
  return undefined;
}

/** validateSubsetName. */
export function subsetNameProblem(name: string): string | undefined {
  if (name === "") return "subset name cannot be empty";
  if (!isDns1123Label(name)) return `subset name is invalid: ${name}`;
  return undefined;
}

/** validateTagKey (pkg/config/labels): the key must match as a whole before its parts' lengths count. */
function tagKeyProblem(key: string): string | undefined {
  const match = TAG_KEY.exec(key);
  if (!match) return `invalid tag key: ${goQuote(key)}`;
  const prefix = match[1] ?? "";
  // The prefix's length excludes its trailing "/".
  if (prefix !== "" && goLen(prefix) - 1 > DNS_PREFIX_MAX)
    return `invalid tag key: ${goQuote(key)} (DNS prefix is too long)`;
  if (goLen(match[2] ?? "") > DNS1123_LABEL_MAX) return `invalid tag key: ${goQuote(key)} (name is too long)`;
  return undefined;
}

/**
 * labels.Instance.Validate (pkg/config/labels/instance.go): per entry, the key's problem, then the
 * value's. A `null` value decodes to "" (valid); values of other types fail decoding, not here.
 */
export function labelProblems(labels: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = tagKeyProblem(key);
    if (keyProblem) out.push(keyProblem);
    if (typeof value === "string" && !LABEL_VALUE.test(value))
      out.push(`invalid tag value: ${goQuote(value)}`);
  }
  return out;
}

/**
 * Go's `%v` of a float64: strconv's shortest 'g', which switches to an exponent below 1e-4 and from
 * 1e6 on (`101`, `0.001`, `1e-05`, `1e+06`, `1.5e+07`), with at least two exponent digits.
 */
export function goNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) {
    const [mantissa, exponent = "0"] = value.toExponential().split("e");
    const e = Number(exponent);
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  // Below 1e21 JavaScript prints the same shortest digits without an exponent.
  return Object.is(value, -0) ? "-0" : String(value);
}

/** Go's `%f`: six decimals. */
export function goFixed(value: number): string {
  return value.toFixed(6);
}

const GO_ESCAPES: Readonly<Record<number, string>> = {
  7: "\\a",
  8: "\\b",
  12: "\\f",
  10: "\\n",
  13: "\\r",
  9: "\\t",
  11: "\\v",
};

const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isGoPrint(cp: number): boolean {
  if (cp < 0x100) return (cp >= 0x20 && cp < 0x7f) || (cp >= 0xa1 && cp !== 0xad);
  return GRAPHIC.test(String.fromCodePoint(cp));
}

/**
 * Go's `%q` of a string (strconv.Quote): printable runes as they are, `"` and `\` escaped, C escapes,
 * `\xNN` for other control bytes, `\uNNNN` / `\UNNNNNNNN` for other unprintable runes. A lone
 * surrogate cannot come out of Go's JSON decoder, which reads it as U+FFFD.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    let cp = c.codePointAt(0) ?? 0;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    const hex = (width: number) => cp.toString(16).padStart(width, "0");
    if (cp === 0x22 || cp === 0x5c) out += `\\${String.fromCodePoint(cp)}`;
    else if (isGoPrint(cp)) out += String.fromCodePoint(cp);
    else if (GO_ESCAPES[cp] !== undefined) out += GO_ESCAPES[cp];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(2)}`;
    else if (cp < 0x10000) out += `\\u${hex(4)}`;
    else out += `\\U${hex(8)}`;
  }
  return `${out}"`;
}
