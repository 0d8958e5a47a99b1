/**
 * The request head as the gateway routes it, whichever parser read it: lower-cased headers, the
 * Host (or an absolute-form target's authority, which replaces it as in Envoy's HTTP/1 codec), the
 * body's framing, the normalized path, and the answer Envoy gives the head before any route is
 * looked at, if it refuses it.
 */

import type { BodyFraming } from "../upstream/upstream-request.js";
import { normalizePath } from "./normalize-path.js";
import { requestTarget } from "./request-target.js";

/** A local reply refusing a request; `close` when the connection closes after it. */
export interface Refusal {
  readonly status: number;
  readonly body: string;
  /** Envoy's response flag, counted when set (DPE: the codec refused it). */
  readonly flags: string;
  readonly close?: boolean;
}

export interface RequestView {
  /** Lower-cased names, in order. */
  readonly headers: [string, string][];
  readonly authority: string;
  readonly framing: BodyFraming;
  /** The normalized path and query; undefined when the head is refused. */
  readonly path: string | undefined;
  /** What Envoy answers this head with before routing it, in Envoy's order; undefined to route it. */
  readonly refusal: Refusal | undefined;
}

/** Envoy's HTTP/1 default, which Istio leaves alone. */
export const MAX_REQUEST_HEADERS = 100;

// The codec's refusals (codec_impl.cc) carry the status text as body and close the connection; the
// connection manager's own 400s (conn_manager_impl.cc) have no body, and any 400 closes an HTTP/1
// connection (onLocalReply), so nothing pipelined behind it is read.
const TOO_MANY_HEADERS: Refusal = {
  status: 431,
  body: "Request Header Fields Too Large",
  flags: "DPE",
  close: true,
};
/** RFC 9112 §6.1: a transfer coding Envoy does not implement (http1.invalid_transfer_encoding). */
const UNSUPPORTED_TRANSFER_CODING: Refusal = {
  status: 501,
  body: "Not Implemented",
  flags: "DPE",
  close: true,
};
/** http1.invalid_url or http1.invalid_scheme. */
const INVALID_TARGET: Refusal = { status: 400, body: "Bad Request", flags: "DPE", close: true };
/**
 * RFC 9112 §3.2: more than one Host. Node keeps the first for routing but the raw headers would carry
 * both upstream, where a server that reads the last one sees another virtual host.
 */
const REPEATED_HOST: Refusal = { status: 400, body: "", flags: "DPE", close: true };
/** missing_host_header: an HTTP/1.1 request without Host (RFC 9112 §3.2). */
const MISSING_HOST: Refusal = { status: 400, body: "", flags: "", close: true };
/** absolute_path_rejected: a path that does not start with `/` (OPTIONS `*`). */
const NOT_RELATIVE: Refusal = { status: 404, body: "", flags: "" };
/** path_normalization_failed: Envoy's normalize_path, on by Istio's default, cannot normalize it. */
const UNNORMALIZABLE: Refusal = { status: 400, body: "", flags: "", close: true };

/**
 * `raw` as Node gives it (names as sent and values, flattened), with the request line's method,
 * target and whether it said HTTP/1.1.
 */
export function requestView(
  raw: readonly string[],
  method: string,
  target: string,
  http11: boolean,
): RequestView {
  const headers: [string, string][] = [];
  let hosts = 0;
  let authority = "";
  let framing: BodyFraming = "none";
  let transferEncodings = 0;
  let transferEncoding = "";
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name === "host") {
      if (hosts++ === 0) authority = value;
    } else if (name === "transfer-encoding") {
      framing = "chunked";
      transferEncodings++;
      transferEncoding = value;
    } else if (name === "content-length" && framing === "none") framing = "content-length";
    headers.push([name, value]);
  }
  const parsed = requestTarget(method, target);
  if (parsed.kind === "path" && parsed.authority !== undefined) {
    authority = parsed.authority;
    const host = headers.find(([name]) => name === "host");
    if (host) host[1] = authority;
    else headers.push(["host", authority]);
  }
  let refusal: Refusal | undefined;
  let path: string | undefined;
  if (raw.length / 2 > MAX_REQUEST_HEADERS) refusal = TOO_MANY_HEADERS;
  // Envoy joins repeated Transfer-Encoding fields, and accepts the result only when it is `chunked`.
  else if (
    transferEncodings > 0 &&
    (transferEncodings > 1 || transferEncoding.trim().toLowerCase() !== "chunked")
  )
    refusal = UNSUPPORTED_TRANSFER_CODING;
  else if (parsed.kind === "invalid") refusal = INVALID_TARGET;
  else if (hosts > 1) refusal = REPEATED_HOST;
  else if (http11 && hosts === 0 && parsed.authority === undefined) refusal = MISSING_HOST;
  else if (parsed.path.charCodeAt(0) !== 0x2f /* / */) refusal = NOT_RELATIVE;
  else {
    path = normalizePath(parsed.path);
    if (path === undefined) refusal = UNNORMALIZABLE;
  }
  return { headers, authority, framing, path, refusal };
}

/** The view of a head the gateway's own reader accepted: one Host, no body, origin-form. */
export function simpleRequestView(
  headers: [string, string][],
  authority: string,
  target: string,
): RequestView {
  const path = normalizePath(target);
  return {
    headers,
    authority,
    framing: "none",
    path,
    refusal: path === undefined ? UNNORMALIZABLE : undefined,
  };
}
