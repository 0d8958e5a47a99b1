/**
 * The route retry policy, after istiod's pilot/pkg/networking/core/route/retry/retry.go (ConvertPolicy,
 * DefaultPolicy, DefaultConsistentHashPolicy, parseRetryOn) in Istio 1.30.
 */

import type { EnvoyRetryHostPredicate, EnvoyRetryPolicy } from "../xds/route-types.js";
import { protoDuration } from "./route-duration.js";

/** An Istio HTTPRetry (VirtualService `http[].retries`) as the API server stores it. */
export interface IstioHttpRetry {
  readonly attempts?: number;
  readonly perTryTimeout?: string;
  readonly retryOn?: string;
  readonly retryRemoteLocalities?: boolean;
  readonly retryIgnorePreviousHosts?: boolean;
  readonly backoff?: string;
}

// retry.go: defaultRetryOn; the mesh default when neither the VirtualService nor MeshConfig's
// defaultHttpRetryPolicy says otherwise.
const DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

// filters.go RetryPreviousHosts: retries avoid the hosts already tried.
const PREVIOUS_HOSTS: EnvoyRetryHostPredicate = {
  name: "envoy.retry_host_predicates.previous_hosts",
  typedConfig: {
    "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
  },
};

// retry.go cachedRetryRemoteLocalitiesPredicate (buildPreviousPrioritiesConfig: update frequency 2).
const PREVIOUS_PRIORITIES = {
  name: "envoy.retry_priorities.previous_priorities",
  typedConfig: {
    "@type":
      "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
    updateFrequency: 2,
  },
};

/**
 * retry.go newRetryPolicy / DefaultPolicy / DefaultConsistentHashPolicy. Since Istio 1.23 a destination
 * with consistent hashing gets no previous_hosts predicate: a retry would otherwise be forced off the
 * very pod the hash pins the client to.
 */
function basePolicy(consistentHash: boolean): EnvoyRetryPolicy {
  return {
    retryOn: DEFAULT_RETRY_ON,
    numRetries: 2,
    hostSelectionRetryMaxAttempts: "5",
    ...(consistentHash ? {} : { retryHostPredicate: [PREVIOUS_HOSTS] }),
  };
}

// Go's http.StatusText knows exactly these codes; parseRetryOn keeps only them as status codes, and any
// other number stays in retryOn as a (then invalid) policy name.
const GO_STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307,
  308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
  422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** retry.go parseRetryOn: numbers become retriable status codes, the rest stays comma-joined. */
function parseRetryOn(retryOn: string): { retryOn: string; codes: number[] } {
  const codes: number[] = [];
  const names: string[] = [];
  for (const raw of retryOn.split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    // strconv.Atoi accepts an optional sign and decimal digits only.
    const n = /^[+-]?\d+$/.test(part) ? Number(part) : Number.NaN;
    if (GO_STATUS_CODES.has(n)) codes.push(n);
    else names.push(part);
  }
  return { retryOn: names.join(","), codes };
}

/**
 * retry.go ConvertPolicy: undefined when the VirtualService sets `attempts: 0` (or omits it inside a
 * retries block), which disables retries.
 */
export function convertRetryPolicy(
  retries: IstioHttpRetry | undefined,
  consistentHash: boolean,
): EnvoyRetryPolicy | undefined {
  if (retries === undefined) return basePolicy(consistentHash);
  const attempts = retries.attempts ?? 0;
  if (attempts <= 0) return undefined;

  let out: EnvoyRetryPolicy = { ...basePolicy(consistentHash), numRetries: attempts };
  if (retries.retryOn !== undefined && retries.retryOn !== "") {
    const parsed = parseRetryOn(retries.retryOn);
    let retryOn = parsed.retryOn;
    // Envoy only looks at retriableStatusCodes when retryOn names retriable-status-codes.
    if (parsed.codes.length > 0 && !retryOn.includes("retriable-status-codes")) {
      retryOn += ",retriable-status-codes";
    }
    out = { ...out, retryOn, ...(parsed.codes.length > 0 ? { retriableStatusCodes: parsed.codes } : {}) };
  }
  if (retries.perTryTimeout !== undefined)
    out = { ...out, perTryTimeout: protoDuration(retries.perTryTimeout) };
  if (retries.retryIgnorePreviousHosts !== undefined) {
    // An explicit setting wins over the consistent-hash default, both ways.
    const { retryHostPredicate: _dropped, ...rest } = out;
    out = retries.retryIgnorePreviousHosts ? { ...rest, retryHostPredicate: [PREVIOUS_HOSTS] } : rest;
  }
  if (retries.retryRemoteLocalities === true) out = { ...out, retryPriority: PREVIOUS_PRIORITIES };
  if (retries.backoff !== undefined)
    out = { ...out, retryBackOff: { baseInterval: protoDuration(retries.backoff) } };
  return out;
}
