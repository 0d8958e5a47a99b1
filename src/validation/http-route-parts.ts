/**
 * The per-feature checks istiod's validateHTTPRoute calls (istio/istio
 * pkg/config/validation/validation.go: validateCORSPolicy, validateHTTPFaultInjection,
 * validateHTTPRedirect, validateHTTPDirectResponse, validateHTTPRetry, validateHTTPRewrite;
 * virtualservice.go: validateAuthorityRewrite), with Istio's messages.
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import { decodedString, isSet, num, str } from "./decoded-values.js";
import type { Findings } from "./findings.js";
import { NS_PER_SECOND, parseGoDuration } from "./go-duration.js";
import { corsHeaderNameProblem, isAuthorityHeader } from "./header-names.js";
import { goFixed, goQuote, percentageProblem, portProblem } from "./istio-names.js";
import { readStringMatch, regexProblem, stringMatchRegexProblem } from "./string-match.js";
import { checkDuration } from "./traffic-policy.js";

/** Go's net/http method names, and Envoy's `*`. Case matters. */
const CORS_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "*",
]);

export function checkCorsPolicy(out: Findings, path: FieldPath, policy: unknown): void {
  if (!isSet(policy)) return;
  for (const [i, origin] of asArray(get(policy, "allowOrigins")).entries()) {
    const at = [...path, "allowOrigins", i];
    // validateAllowOrigins prints the empty value with '%v'.
    if (readStringMatch(origin).value === "") {
      out.error(at, "'' is not a valid match type for CORS allow origins");
      continue;
    }
    const problem = stringMatchRegexProblem(origin, "corsPolicy.allowOrigins");
    if (problem) out.error(at, problem);
  }
  for (const [i, entry] of asArray(get(policy, "allowMethods")).entries()) {
    const method = decodedString(entry);
    if (method !== undefined && !CORS_METHODS.has(method)) {
      out.error([...path, "allowMethods", i], `${goQuote(method)} is not a supported HTTP method`);
    }
  }
  for (const key of ["allowHeaders", "exposeHeaders"]) {
    for (const [i, entry] of asArray(get(policy, key)).entries()) {
      const name = decodedString(entry);
      const problem = name === undefined ? undefined : corsHeaderNameProblem(name);
      if (problem) out.error([...path, key, i], problem);
    }
  }
  const maxAge = str(get(policy, "maxAge"));
  if (maxAge !== undefined) {
    const at = [...path, "maxAge"];
    checkDuration(out, at, maxAge);
    // Envoy's access-control-max-age is whole seconds: a decoded Duration with nanos > 0.
    const parsed = parseGoDuration(maxAge);
    if ("ns" in parsed && parsed.ns > 0n && parsed.ns % NS_PER_SECOND !== 0n) {
      out.error(at, "max_age duration is accurate only to seconds precision");
    }
  }
}

/** grpc.SupportedGRPCStatus (pkg/util/grpc/codes.go). */
const GRPC_STATUSES = new Set([
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
]);

/** validateHTTPStatus: 600 passes although the message says 599. */
export function httpStatusProblem(status: number): string | undefined {
  return status < 200 || status > 600 ? `HTTP status ${status} is not in range 200-599` : undefined;
}

function checkPercentage(out: Findings, path: FieldPath, percentage: unknown): void {
  if (!isSet(percentage)) return;
  const problem = percentageProblem(num(get(percentage, "value")) ?? 0);
  if (problem) out.error(path, problem);
}

/** The member of a oneof the decoder keeps: it sets them in field order, so the last one given. */
function oneofMember(message: unknown, fields: readonly string[]): string | undefined {
  let found: string | undefined;
  for (const field of fields) if (isSet(get(message, field))) found = field;
  return found;
}

/**
 * validateHTTPFaultInjection. An abort without an error type is a warning in
 * validateHTTPFaultInjectionAbort, but the caller joins it with appendErrors, which keeps errors
 * only, so istiod never reports it.
 */
export function checkFault(out: Findings, path: FieldPath, fault: unknown): void {
  if (!isSet(fault)) return;
  const abort = get(fault, "abort");
  const delay = get(fault, "delay");
  if (!isSet(abort) && !isSet(delay))
    out.error(path, "HTTP fault injection must have an abort and/or a delay");
  if (isSet(abort)) {
    const at = [...path, "abort"];
    checkPercentage(out, [...at, "percentage", "value"], get(abort, "percentage"));
    const member = oneofMember(abort, ["httpStatus", "grpcStatus", "http2Error"]);
    if (member === "grpcStatus") {
      const status = str(get(abort, "grpcStatus")) ?? "";
      if (!GRPC_STATUSES.has(status)) {
        out.error(
          [...at, "grpcStatus"],
          `gRPC status ${goQuote(status)} is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'`,
        );
      }
    } else if (member === "http2Error") {
      out.error([...at, "http2Error"], "HTTP/2 abort fault injection not supported yet");
    } else if (member === "httpStatus") {
      const problem = httpStatusProblem(num(get(abort, "httpStatus")) ?? 0);
      if (problem) out.error([...at, "httpStatus"], problem);
    }
  }
  if (isSet(delay)) {
    const at = [...path, "delay"];
    // The deprecated integer `percent` is not checked.
    checkPercentage(out, [...at, "percentage", "value"], get(delay, "percentage"));
    const member = oneofMember(delay, ["fixedDelay", "exponentialDelay"]);
    if (member === "fixedDelay") checkDuration(out, [...at, "fixedDelay"], get(delay, "fixedDelay"));
    if (member === "exponentialDelay") {
      checkDuration(out, [...at, "exponentialDelay"], get(delay, "exponentialDelay"));
      out.error([...at, "exponentialDelay"], "exponentialDelay not supported yet");
    }
  }
}

/** validateHTTPRedirect: the first problem only. */
export function checkRedirect(out: Findings, path: FieldPath, redirect: unknown): void {
  if (!isSet(redirect)) return;
  const uri = str(get(redirect, "uri")) ?? "";
  const authority = str(get(redirect, "authority")) ?? "";
  const scheme = str(get(redirect, "scheme")) ?? "";
  // port and derivePort are one oneof; either given (even as 0) sets it.
  const portMember = oneofMember(redirect, ["port", "derivePort"]);
  if (uri === "" && authority === "" && portMember === undefined && scheme === "") {
    out.error(path, "redirect must specify URI, authority, scheme, or port");
    return;
  }
  const code = num(get(redirect, "redirectCode")) ?? 0;
  if (code !== 0 && (code < 300 || code > 399)) {
    out.error([...path, "redirectCode"], `${code} is not a valid redirect code, must be 3xx`);
    return;
  }
  if (scheme !== "" && scheme !== "http" && scheme !== "https") {
    out.error([...path, "scheme"], 'invalid redirect scheme, must be "http" or "https"');
    return;
  }
  const port = portMember === "port" ? (num(get(redirect, "port")) ?? 0) : 0;
  const problem = port > 0 ? portProblem(port) : undefined;
  if (problem) out.error([...path, "port"], problem);
}

const KB = 1024;
const MB = 1024 * KB;

/** validateHTTPDirectResponse: the body is pushed to every proxy, so its size is bounded. */
export function checkDirectResponse(out: Findings, path: FieldPath, response: unknown): void {
  if (!isSet(response)) return;
  const body = get(response, "body");
  if (isSet(body)) {
    const member = oneofMember(body, ["string", "bytes"]);
    const text = str(get(body, member ?? "")) ?? "";
    // `bytes` travels as base64; its size is the decoded one.
    const size = member === "bytes" ? Buffer.from(text, "base64").length : Buffer.byteLength(text, "utf8");
    if (size > MB) {
      out.error(
        [...path, "body"],
        "large direct_responses may impact control plane performance, must be less than 1MB",
      );
    } else if (size > 100 * KB) {
      out.warn([...path, "body"], "large direct_responses may impact control plane performance");
    }
  }
  const problem = httpStatusProblem(num(get(response, "status")) ?? 0);
  if (problem) out.error([...path, "status"], problem);
}

/** The codes Go's http.StatusText names; Envoy's retriable-status-codes take only those. */
const HTTP_STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307,
  308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
  422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies, as Istio lists them. */
const RETRY_ON_POLICIES = new Set([
  "5xx",
  "gateway-error",
  "reset",
  "reset-before-request",
  "connect-failure",
  "retriable-4xx",
  "refused-stream",
  "retriable-status-codes",
  "retriable-headers",
  "envoy-ratelimited",
  "http3-post-connect-failure",
  "cancelled",
  "deadline-exceeded",
  "internal",
  "resource-exhausted",
  "unavailable",
]);

/** Go's strconv.Atoi, 0 on failure (which is not a status code). */
function atoi(s: string): number {
  return /^[+-]?\d+$/.test(s) ? Number(s) : 0;
}

/** validateHTTPRetry. retryOn is split on commas without trimming: `5xx, reset` fails on ` reset`. */
export function checkRetries(out: Findings, path: FieldPath, retries: unknown): void {
  if (!isSet(retries)) return;
  const attempts = num(get(retries, "attempts")) ?? 0;
  const retryOn = str(get(retries, "retryOn")) ?? "";
  const perTryTimeout = get(retries, "perTryTimeout");
  if (attempts < 0) out.error([...path, "attempts"], "attempts cannot be negative");
  if (
    attempts === 0 &&
    (isSet(perTryTimeout) || retryOn !== "" || isSet(get(retries, "retryRemoteLocalities")))
  ) {
    out.error([...path, "attempts"], "http retry policy configured when attempts are set to 0 (disabled)");
  }
  checkDuration(out, [...path, "perTryTimeout"], perTryTimeout);
  if (retryOn !== "") {
    for (const policy of retryOn.split(",")) {
      if (!HTTP_STATUS_CODES.has(atoi(policy)) && !RETRY_ON_POLICIES.has(policy)) {
        out.error([...path, "retryOn"], `${goQuote(policy)} is not a valid retryOn policy`);
      }
    }
  }
  checkDuration(out, [...path, "backoff"], get(retries, "backoff"));
}

/** validateHTTPRewrite and validateURIRegexRewrite; Go joins the regex rewrite's problem under a heading. */
export function checkRewrite(out: Findings, path: FieldPath, rewrite: unknown): void {
  if (!isSet(rewrite)) return;
  const uri = str(get(rewrite, "uri")) ?? "";
  const regexRewrite = get(rewrite, "uriRegexRewrite");
  if (uri !== "" && isSet(regexRewrite)) {
    out.error(path, "rewrite may only contain one of URI or UriRegexRewrite");
    return;
  }
  if (uri === "" && !isSet(regexRewrite) && (str(get(rewrite, "authority")) ?? "") === "") {
    out.error(
      path,
      "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified",
    );
    return;
  }
  if (!isSet(regexRewrite)) return;
  const match = str(get(regexRewrite, "match")) ?? "";
  const replacement = str(get(regexRewrite, "rewrite")) ?? "";
  const problem =
    match === "" || replacement === ""
      ? "UriRegexRewrite requires both Rewrite and Match fields to be specified"
      : regexProblem(match, "HTTPRewrite.UriRegexRewrite.Match");
  if (problem) out.error([...path, "uriRegexRewrite"], `UriRegexRewrite has errors\n${problem}`);
}

/**
 * validateAuthorityRewrite: the authority may be rewritten in one place only — rewrite.authority,
 * or a request header set/add of `:authority` or `host`. The first clash is reported.
 */
export function checkAuthorityRewrite(
  out: Findings,
  path: FieldPath,
  rewrite: unknown,
  headers: unknown,
): void {
  let current = str(get(rewrite, "authority")) ?? "";
  for (const operation of ["set", "add"]) {
    const map = get(headers, "request", operation);
    if (map === null || typeof map !== "object" || Array.isArray(map)) continue;
    for (const [name, entry] of Object.entries(map)) {
      if (!isAuthorityHeader(name)) continue;
      const value = decodedString(entry) ?? "";
      if (current !== "") {
        out.error(
          [...path, "headers", "request", operation, name],
          `authority header cannot be set multiple times: have ${goQuote(current)}, attempting to set ${goQuote(value)}`,
        );
        return;
      }
      current = value;
    }
  }
}

/** The mirror_percentage / mirrors[].percentage bounds; `%f` prints six decimals. */
export function mirrorPercentageProblems(value: number, what: string): string[] {
  const out: string[] = [];
  if (value > 100) out.push(`${what} must have a max value of 100 (it has ${goFixed(value)})`);
  if (value < 0) out.push(`${what} must have a min value of 0 (it has ${goFixed(value)})`);
  return out;
}
