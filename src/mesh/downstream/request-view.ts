/**
 * The request head as the gateway routes it, whichever parser read it: lower-cased headers, the
 * Host (or an absolute-form target's authority, which replaces it as in Envoy's HTTP/1 codec), the
 * body's framing and the normalized path.
 */
import { normalizePath, requestTarget } from "../normalize-path.js";
import type { BodyFraming } from "../upstream/upstream-request.js";

export interface RequestView {
  /** Lower-cased names, in order. */
  readonly headers: [string, string][];
  readonly hosts: number;
  readonly authority: string;
  readonly framing: BodyFraming;
  /** The normalized path and query; undefined when Envoy would answer 400. */
  readonly path: string | undefined;
  /** More header fields than Envoy's default `max_headers_count` (100): a 431. */
  readonly tooManyHeaders: boolean;
}

/** Envoy's HTTP/1 default, which Istio leaves alone. */
export const MAX_REQUEST_HEADERS = 100;

/** `raw` as Node gives it: names as sent and values, flattened. */
export function requestView(raw: readonly string[], target: string): RequestView {
  const headers: [string, string][] = [];
  let hosts = 0;
  let authority = "";
  let framing: BodyFraming = "none";
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name === "host") {
      if (hosts++ === 0) authority = value;
    } else if (name === "transfer-encoding") framing = "chunked";
    else if (name === "content-length" && framing === "none") framing = "content-length";
    headers.push([name, value]);
  }
  const parsed = requestTarget(target);
  if (parsed?.authority !== undefined) {
    authority = parsed.authority;
    const host = headers.find(([name]) => name === "host");
    if (host) host[1] = authority;
    else headers.push(["host", authority]);
  }
  // Envoy's normalize_path, on by Istio's default, runs before routing; what it cannot normalize is a 400.
  const path = parsed === undefined ? undefined : normalizePath(parsed.path);
  return { headers, hosts, authority, framing, path, tooManyHeaders: raw.length / 2 > MAX_REQUEST_HEADERS };
}

/** The view of a head the gateway's own reader accepted: one Host, no body, origin-form. */
export function simpleRequestView(
  headers: [string, string][],
  authority: string,
  target: string,
): RequestView {
  return {
    headers,
    hosts: 1,
    authority,
    framing: "none",
    path: normalizePath(target),
    tooManyHeaders: false,
  };
}
