import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { SessionStore } from "./session-store.js";

export type Route = "/user" | "/healthz" | "/readyz" | "/metrics" | "other";

/**
 * The service's Prometheus metrics. Labelled children are cached so the hot path does a Map lookup
 * instead of prom-client's label hashing on every request.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #requests: Counter<"route" | "status">;
  readonly #duration: Histogram<"route">;
  readonly #storeErrors: Counter;
  readonly #created: Counter;
  readonly #requestChildren = new Map<string, ReturnType<Counter<"route" | "status">["labels"]>>();
  readonly #durationChildren = new Map<Route, ReturnType<Histogram<"route">["labels"]>>();

  constructor(store: SessionStore) {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: "session_http_requests_total",
      help: "HTTP requests answered, by route and status code",
      labelNames: ["route", "status"],
      registers,
    });
    this.#duration = new Histogram({
      name: "session_http_request_duration_seconds",
      help: "Time from request to response, by route",
      labelNames: ["route"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.#storeErrors = new Counter({
      name: "session_store_errors_total",
      help: "Session store calls that failed or timed out",
      registers,
    });
    this.#created = new Counter({
      name: "session_sessions_created_total",
      help: "Sessions created by this replica",
      registers,
    });
    new Gauge({
      name: "session_store_sessions",
      help: "Sessions held in the memory store (absent for Redis, which is shared)",
      registers,
      collect() {
        const size = store.size();
        if (size !== undefined) this.set(size);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  observe(route: Route, status: number, seconds: number): void {
    const key = `${route} ${status}`;
    let counter = this.#requestChildren.get(key);
    if (counter === undefined) {
      counter = this.#requests.labels(route, String(status));
      this.#requestChildren.set(key, counter);
    }
    counter.inc();
    let histogram = this.#durationChildren.get(route);
    if (histogram === undefined) {
      histogram = this.#duration.labels(route);
      this.#durationChildren.set(route, histogram);
    }
    histogram.observe(seconds);
  }

  storeError(): void {
    this.#storeErrors.inc();
  }

  sessionCreated(): void {
    this.#created.inc();
  }
}
