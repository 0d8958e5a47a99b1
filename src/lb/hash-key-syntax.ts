/**
 * What a consistentHash may name, checked once for both `lint` and the mesh's apply.
 *
 * The cookie name, path and attributes go into the Set-Cookie header as they are written
 * (Envoy's Http::Utility::makeSetCookieValue; ./cookie.ts), and neither Istio (validateLoadBalancer
 * checks only that the name is set) nor Envoy's API (HashPolicy.Cookie: name min_len 1, path free)
 * looks at their characters, so a CR or LF there splits the response. They are held to RFC 6265
 * §4.1.1: a name is a token, a path or attribute value any CHAR except CTLs or ";".
 *
 * The header and query-parameter keys follow Envoy's route_components.proto HashPolicy, which
 * NACKs the route otherwise: Header.header_name is HTTP_HEADER_NAME with strict: false (not empty,
 * no NUL, CR or LF), QueryParameter.name has min_len 1.
 */
export interface HashKeyProblem {
  /** Below the consistentHash block, e.g. ["httpCookie", "name"]. */
  readonly path: readonly (string | number)[];
  /** `cookie`: a Set-Cookie part; `key`: a header or query-parameter hash key Envoy refuses. */
  readonly kind: "cookie" | "key";
  readonly message: string;
}

/** RFC 9110 token characters (RFC 6265 cookie-name = token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6265 path-value and extension-av: CHAR (US-ASCII) except CTLs and ";". */
const COOKIE_TEXT = /^[\x20-\x3a\x3c-\x7e]*$/;
/** The characters Envoy's non-strict HTTP_HEADER_NAME refuses. */
const HEADER_NAME_FORBIDDEN = /[\0\r\n]/;

const NOT_TOKEN = "is not a token (letters, digits and !#$%&'*+-.^_`|~), as RFC 6265 requires";
const NOT_COOKIE_TEXT =
  "holds a control character, a non-ASCII character or ';', which RFC 6265 forbids there";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every problem of one consistentHash block; non-string values are left to the schema check. */
export function hashKeyProblems(consistentHash: unknown): HashKeyProblem[] {
  if (!isPlainObject(consistentHash)) return [];
  const problems: HashKeyProblem[] = [];
  const { httpHeaderName, httpQueryParameterName, httpCookie } = consistentHash;
  if (httpHeaderName === "") {
    problems.push({ path: ["httpHeaderName"], kind: "key", message: "must not be empty" });
  } else if (typeof httpHeaderName === "string" && HEADER_NAME_FORBIDDEN.test(httpHeaderName)) {
    problems.push({
      path: ["httpHeaderName"],
      kind: "key",
      message: `${JSON.stringify(httpHeaderName)} holds NUL, CR or LF, which a header name cannot`,
    });
  }
  if (httpQueryParameterName === "") {
    problems.push({ path: ["httpQueryParameterName"], kind: "key", message: "must not be empty" });
  }
  if (!isPlainObject(httpCookie)) return problems;
  const cookie = (path: (string | number)[], value: unknown, pattern: RegExp, what: string) => {
    if (typeof value === "string" && value !== "" && !pattern.test(value))
      problems.push({
        path: ["httpCookie", ...path],
        kind: "cookie",
        message: `${JSON.stringify(value)} ${what}`,
      });
  };
  cookie(["name"], httpCookie.name, TOKEN, NOT_TOKEN);
  cookie(["path"], httpCookie.path, COOKIE_TEXT, NOT_COOKIE_TEXT);
  const attributes = Array.isArray(httpCookie.attributes) ? httpCookie.attributes : [];
  for (const [i, attribute] of attributes.entries()) {
    if (!isPlainObject(attribute)) continue;
    cookie(["attributes", i, "name"], attribute.name, TOKEN, NOT_TOKEN);
    cookie(["attributes", i, "value"], attribute.value, COOKIE_TEXT, NOT_COOKIE_TEXT);
  }
  return problems;
}
