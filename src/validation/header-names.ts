/**
 * Header names and header operations in istiod's VirtualService validation (istio/istio
 * pkg/config/validation/validation.go: ValidateHTTPHeaderNameOrJwtClaimRoute,
 * ValidateHTTPHeaderWithAuthorityOperationName, ValidateHTTPHeaderOperationName,
 * ValidateCORSHTTPHeaderName; virtualservice.go: isInternalHeader, isAuthorityHeader).
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import { decodedString } from "./decoded-values.js";
import type { Findings } from "./findings.js";
import { headerValueProblem } from "./header-value.js";
import { goQuote } from "./istio-names.js";
import { isJwtClaimRoute } from "./vs-names.js";

/**
 * RFC 7230 token characters, as Istio writes them: `"!#$%&'*+-.^_`|~"` inside a character class,
 * where `+-.` is the range `+`..`.`, so a comma passes too.
 */
const TOKEN = /^[!#$%&'*+-.^_`|~A-Za-z0-9]+$/;

/** RFC 7540 pseudo-headers a match may name. */
const PSEUDO_HEADERS = new Set([":method", ":scheme", ":authority", ":path", ":status"]);

const EMPTY = "header name cannot be empty";
const notToken = (name: string) => `header name ${name} is not a valid header name`;

/** ValidateHTTPHeaderNameOrJwtClaimRoute: match header names. */
export function matchHeaderNameProblem(name: string): string | undefined {
  if (name === "") return EMPTY;
  if (isJwtClaimRoute(name) || PSEUDO_HEADERS.has(name)) return undefined;
  return TOKEN.test(name) ? undefined : notToken(name);
}

/** ValidateCORSHTTPHeaderName: allowHeaders / exposeHeaders entries; `*` is Envoy's wildcard. */
export function corsHeaderNameProblem(name: string): string | undefined {
  if (name === "") return EMPTY;
  if (name === "*") return undefined;
  return TOKEN.test(name) ? undefined : notToken(name);
}

const isInternalHeader = (name: string) => name.startsWith(":") || name.toLowerCase() === "host";

/** isAuthorityHeader: `:authority` or `host`, any case. */
export function isAuthorityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === ":authority" || lower === "host";
}

/** ValidateHTTPHeaderWithAuthorityOperationName: request add/set may set the authority. */
function requestSetNameProblem(name: string): string | undefined {
  if (name === "") return EMPTY;
  if (isInternalHeader(name) && !isAuthorityHeader(name)) {
    return `invalid header ${goQuote(name)}: header cannot have ":" prefix`;
  }
  return undefined;
}

/** ValidateHTTPHeaderOperationName: request remove, and every response operation. */
function operationNameProblem(name: string): string | undefined {
  if (name === "") return EMPTY;
  if (name.toLowerCase() === "host") return `invalid header ${goQuote(name)}: cannot set Host header`;
  if (isInternalHeader(name)) return `invalid header ${goQuote(name)}: header cannot have ":" prefix`;
  return undefined;
}

function checkNamesAndValues(
  out: Findings,
  path: FieldPath,
  map: unknown,
  nameProblem: (name: string) => string | undefined,
): void {
  if (map === null || typeof map !== "object" || Array.isArray(map)) return;
  for (const [name, value] of Object.entries(map)) {
    const problem = nameProblem(name);
    if (problem) out.error([...path, name], problem);
    const text = decodedString(value);
    const valueProblem = text === undefined ? undefined : headerValueProblem(text);
    if (valueProblem) out.error([...path, name], valueProblem);
  }
}

function checkRemoved(
  out: Findings,
  path: FieldPath,
  list: unknown,
  nameProblem: (name: string) => string | undefined,
): void {
  for (const [i, entry] of asArray(list).entries()) {
    const name = decodedString(entry);
    const problem = name === undefined ? undefined : nameProblem(name);
    if (problem) out.error([...path, i], problem);
  }
}

/**
 * The header operations of a route or of one of its destinations (the same checks in
 * validateHTTPRoute and validateHTTPRouteDestinations). Go walks the add/set maps in random order;
 * here it is the manifest's order.
 */
export function checkHeaderOperations(out: Findings, path: FieldPath, headers: unknown): void {
  const request = get(headers, "request");
  const response = get(headers, "response");
  checkNamesAndValues(out, [...path, "request", "add"], get(request, "add"), requestSetNameProblem);
  checkNamesAndValues(out, [...path, "request", "set"], get(request, "set"), requestSetNameProblem);
  checkRemoved(out, [...path, "request", "remove"], get(request, "remove"), operationNameProblem);
  checkNamesAndValues(out, [...path, "response", "add"], get(response, "add"), operationNameProblem);
  checkNamesAndValues(out, [...path, "response", "set"], get(response, "set"), operationNameProblem);
  checkRemoved(out, [...path, "response", "remove"], get(response, "remove"), operationNameProblem);
}
