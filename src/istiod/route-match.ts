/**
 * VirtualService match and header operations, after istiod's pilot/pkg/networking/core/route/route.go
 * (TranslateRouteMatch, translateHeaderMatch, translateQueryParamMatch, canBeConvertedToPresentMatch,
 * TranslateHeadersOperations, translateAppendHeaders, IsCatchAllRoute) and util.go ConvertToEnvoyMatch.
 */
import type {
  EnvoyHeaderMatcher,
  EnvoyHeaderValueOption,
  EnvoyQueryParameterMatcher,
  EnvoyRoute,
  EnvoyRouteMatch,
  EnvoyStringMatcher,
} from "../xds/route-types.js";

/** An Istio StringMatch: one of exact, prefix, regex (or none). */
export interface IstioStringMatch {
  readonly exact?: string;
  readonly prefix?: string;
  readonly regex?: string;
}

export interface IstioHttpMatch {
  readonly name?: string;
  readonly uri?: IstioStringMatch;
  readonly scheme?: IstioStringMatch;
  readonly method?: IstioStringMatch;
  readonly authority?: IstioStringMatch;
  readonly headers?: Readonly<Record<string, IstioStringMatch>>;
  readonly withoutHeaders?: Readonly<Record<string, IstioStringMatch>>;
  readonly queryParams?: Readonly<Record<string, IstioStringMatch>>;
  readonly ignoreUriCase?: boolean;
  readonly port?: number;
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly gateways?: readonly string[];
  readonly sourceNamespace?: string;
  readonly statPrefix?: string;
}

export interface IstioHeaders {
  readonly request?: HeaderOps;
  readonly response?: HeaderOps;
}
interface HeaderOps {
  readonly set?: Readonly<Record<string, string>>;
  readonly add?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

/** util.go ConvertToEnvoyMatch. */
function toEnvoyMatch(m: IstioStringMatch): EnvoyStringMatcher | undefined {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { safeRegex: { regex: m.regex } };
  return undefined;
}

/** canBeConvertedToPresentMatch: an empty match, or the regex "*" (istio/istio#20629), means "present". */
function isPresentMatch(m: IstioStringMatch | undefined): boolean {
  if (!m || (m.exact === undefined && m.prefix === undefined && m.regex === undefined)) return true;
  return m.regex === "*";
}

function headerMatcher(name: string, m: IstioStringMatch): EnvoyHeaderMatcher {
  if (isPresentMatch(m)) return { name, presentMatch: true };
  const sm = toEnvoyMatch(m);
  return sm ? { name, stringMatch: sm } : { name };
}

function queryMatcher(name: string, m: IstioStringMatch): EnvoyQueryParameterMatcher {
  if (isPresentMatch(m)) return { name, presentMatch: true };
  const sm = toEnvoyMatch(m);
  return sm ? { name, stringMatch: sm } : { name };
}

function rejectClaimRouting(name: string): void {
  // translateMetadataMatch turns these into dynamic-metadata (JWT claim) matchers; not reproduced here.
  if (name.startsWith("@request.auth.claims"))
    throw new Error(`JWT claim routing (${name}) is not supported`);
}

/** route.go TranslateRouteMatch for a VirtualService (not Gateway API / Ingress) route. */
export function translateRouteMatch(match: IstioHttpMatch | undefined): EnvoyRouteMatch {
  if (!match) return { prefix: "/" };
  let headers: EnvoyHeaderMatcher[] = [];
  for (const [name, m] of Object.entries(match.headers ?? {})) {
    rejectClaimRouting(name);
    headers.push(headerMatcher(name, m));
  }
  for (const [name, m] of Object.entries(match.withoutHeaders ?? {})) {
    rejectClaimRouting(name);
    // treat_missing_header_as_empty conflicts with present_match, so only string matches get it.
    const h = headerMatcher(name, m);
    headers.push(
      isPresentMatch(m)
        ? { ...h, invertMatch: true }
        : { ...h, invertMatch: true, treatMissingHeaderAsEmpty: true },
    );
  }
  // istiod sorts by name only these; the pseudo-headers below are appended after.
  headers = headers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  let path: Pick<EnvoyRouteMatch, "prefix" | "path" | "safeRegex"> = { prefix: "/" };
  const uri = match.uri;
  if (uri?.exact !== undefined) path = { path: uri.exact };
  else if (uri?.prefix !== undefined) path = { prefix: uri.prefix };
  else if (uri?.regex !== undefined) path = { safeRegex: { regex: uri.regex } };

  if (match.method) headers.push(headerMatcher(":method", match.method));
  if (match.authority) headers.push(headerMatcher(":authority", match.authority));
  if (match.scheme) headers.push(headerMatcher(":scheme", match.scheme));

  // istiod ranges over a Go map here, so its order varies between pushes; sorting keeps ours stable.
  const queryParameters = Object.entries(match.queryParams ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, m]) => queryMatcher(name, m));

  return {
    ...path,
    caseSensitive: !(match.ignoreUriCase ?? false),
    ...(headers.length > 0 ? { headers } : {}),
    ...(queryParameters.length > 0 ? { queryParameters } : {}),
  };
}

/** route.go IsCatchAllRoute: "/" prefix or ".*" regex with no header or query conditions. */
export function isCatchAllRoute(r: EnvoyRoute): boolean {
  const m = r.match;
  const catchAll = m.prefix === "/" || m.safeRegex?.regex === ".*";
  return catchAll && (m.headers ?? []).length === 0 && (m.queryParameters ?? []).length === 0;
}

export interface HeaderOperations {
  readonly requestHeadersToAdd: EnvoyHeaderValueOption[];
  readonly responseHeadersToAdd: EnvoyHeaderValueOption[];
  readonly requestHeadersToRemove: string[];
  readonly responseHeadersToRemove: string[];
  readonly authority: string;
}

const isInternalHeader = (k: string) => k.startsWith(":") || k.toLowerCase() === "host";
const isAuthorityHeader = (k: string) => k.toLowerCase() === ":authority" || k.toLowerCase() === "host";

/** route.go translateAppendHeaders: `set` overwrites, `add` appends; sorted by key (SortHeaderValueOption). */
function appendHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  append: boolean,
): { options: EnvoyHeaderValueOption[]; authority: string } {
  let authority = "";
  const options: EnvoyHeaderValueOption[] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (isAuthorityHeader(key)) authority = value;
    if (isInternalHeader(key)) continue;
    options.push(
      append
        ? { header: { key, value } }
        : { header: { key, value }, appendAction: "OVERWRITE_IF_EXISTS_OR_ADD" },
    );
  }
  options.sort((a, b) => (a.header.key < b.header.key ? -1 : a.header.key > b.header.key ? 1 : 0));
  return { options, authority };
}

/** route.go TranslateHeadersOperations. */
export function translateHeadersOperations(headers: IstioHeaders): HeaderOperations {
  const reqSet = appendHeaders(headers.request?.set, false);
  const reqAdd = appendHeaders(headers.request?.add, true);
  const respSet = appendHeaders(headers.response?.set, false);
  const respAdd = appendHeaders(headers.response?.add, true);
  return {
    requestHeadersToAdd: [...reqSet.options, ...reqAdd.options],
    responseHeadersToAdd: [...respSet.options, ...respAdd.options],
    requestHeadersToRemove: (headers.request?.remove ?? []).filter((k) => !isInternalHeader(k)),
    responseHeadersToRemove: (headers.response?.remove ?? []).filter((k) => !isInternalHeader(k)),
    authority: reqSet.authority !== "" ? reqSet.authority : reqAdd.authority,
  };
}
