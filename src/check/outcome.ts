/** Why a request produced no usable answer. */
export type FailureKind = "refused" | "timeout" | "tls" | "reset" | "status" | "unparsable" | "other";

export type Outcome =
  | { readonly ok: true; readonly hostname: string; readonly count: number }
  | { readonly ok: false; readonly kind: FailureKind; readonly detail: string };

/** One simulated client's requests in order; `disruptedAt` is the index of the first request after it. */
export interface ClientRecord {
  readonly client: number;
  readonly outcomes: readonly Outcome[];
  readonly disruptedAt?: number;
  /** Cookie names the client held at the end (to tell "no cookie kept" apart from other causes). */
  readonly cookies: readonly string[];
}

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT|UNABLE_TO_(VERIFY|GET)_)/;

/** Sorts a network error into a failure kind by its code (node and undici codes). */
export function classifyError(err: unknown): { kind: FailureKind; detail: string } {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  const code = e?.code ?? e?.cause?.code ?? "";
  const detail = code || e?.message || String(err);
  if (code === "ECONNREFUSED") return { kind: "refused", detail };
  if (
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "ETIMEDOUT" ||
    code === "ABORT_ERR" ||
    (e as { name?: string })?.name === "TimeoutError"
  ) {
    return { kind: "timeout", detail: code || "timeout" };
  }
  if (TLS_CODES.test(code)) return { kind: "tls", detail };
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE")
    return { kind: "reset", detail };
  return { kind: "other", detail };
}
