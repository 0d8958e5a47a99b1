/**
 * A cluster's circuit breakers, as Envoy's resource manager keeps them for the default priority:
 * each limit with what is in use against it, and the overflows. Istio sets every limit to
 * 2^32 − 1 unless the DestinationRule's `connectionPool` names one, so by default nothing overflows.
 * - connections: upstream connections open or opening, the whole cluster's;
 * - pending requests: requests waiting for a connection (one still connecting included);
 * - requests: requests on a connection;
 * - retries: retries under way (from the decision to retry to the next decision or the end).
 */

/** Istio's default for every threshold (math.MaxUint32). */
export const UNLIMITED = 4_294_967_295;

export interface CircuitBreakerLimits {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

export const DEFAULT_LIMITS: CircuitBreakerLimits = {
  maxConnections: UNLIMITED,
  maxPendingRequests: UNLIMITED,
  maxRequests: UNLIMITED,
  maxRetries: UNLIMITED,
};

export class CircuitBreakers {
  limits: CircuitBreakerLimits;
  connections = 0;
  pendingRequests = 0;
  requests = 0;
  retries = 0;
  /** Envoy's upstream_cx_overflow: a connection was wanted at max_connections. */
  cxOverflow = 0;
  /** Envoy's upstream_rq_pending_overflow: a request refused at max_pending_requests or max_requests. */
  rqPendingOverflow = 0;
  /** Envoy's upstream_rq_retry_overflow: a retry not made at max_retries. */
  rqRetryOverflow = 0;

  constructor(limits: CircuitBreakerLimits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  canConnect(): boolean {
    return this.connections < this.limits.maxConnections;
  }

  canQueue(): boolean {
    return this.pendingRequests < this.limits.maxPendingRequests;
  }

  canRequest(): boolean {
    return this.requests < this.limits.maxRequests;
  }

  /** Takes a retry slot; false (and an overflow booked) when max_retries are under way. */
  takeRetry(): boolean {
    if (this.retries >= this.limits.maxRetries) {
      this.rqRetryOverflow++;
      return false;
    }
    this.retries++;
    return true;
  }

  giveBackRetry(): void {
    this.retries--;
  }
}
