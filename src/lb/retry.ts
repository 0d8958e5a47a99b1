/**
 * Host selection with retries, as Envoy runs it and Istio configures it.
 *
 * Envoy (thread_aware_lb_impl.cc / load_balancer_impl.cc chooseHost): up to
 * hostSelectionRetryCount + 1 attempts; attempt i asks the balancer for (hash, i) and keeps the host
 * unless the retry host predicate rejects it; if every attempt is rejected the last host is used.
 * The predicate can only reject on a retry (it knows previously attempted hosts), so the first try
 * is always a single attempt.
 *
 * Istio (pilot/pkg/networking/core/route/retry/retry.go): num_retries 2, host_selection_retry
 * _max_attempts 5, and the previous_hosts predicate except on a route with a single destination
 * using consistent hashing (since Istio 1.23), where retries stay on the same host.
 */
import type { Endpoint } from "./endpoint.js";
import type { LoadBalancer } from "./load-balancer.js";

export interface RetryPolicy {
  readonly numRetries: number;
  readonly hostSelectionRetryMaxAttempts: number;
  readonly previousHostsPredicate: boolean;
}

export interface RouteShape {
  /** Whether the destination's DestinationRule sets consistentHash. */
  readonly consistentHash: boolean;
  /** Number of (weighted) destinations of the route. */
  readonly destinations: number;
}

export function istioDefaultRetryPolicy(route: RouteShape): RetryPolicy {
  return {
    numRetries: 2,
    hostSelectionRetryMaxAttempts: 5,
    previousHostsPredicate: !(route.consistentHash && route.destinations === 1),
  };
}

export interface SelectionRequest {
  readonly hash?: bigint | undefined;
  /** Addresses already attempted by this request (empty on the first try). */
  readonly previousHosts?: ReadonlySet<string>;
  readonly policy: RetryPolicy;
}

/** Envoy's host-selection loop over one balancer. */
export function selectHost(lb: LoadBalancer, request: SelectionRequest): Endpoint | undefined {
  const previous = request.previousHosts ?? new Set<string>();
  const rejects = request.policy.previousHostsPredicate && previous.size > 0;
  const attempts = rejects ? request.policy.hostSelectionRetryMaxAttempts + 1 : 1;
  let host: Endpoint | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    host = lb.choose({ hash: request.hash, attempt });
    if (!host || !rejects || !previous.has(host.address)) return host;
  }
  return host;
}
