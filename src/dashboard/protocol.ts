/**
 * What the dashboard's event stream (GET /api/v1/events) carries, shared by the server and the page.
 * Events: `hello` once per connection (history, affinity variants), `manifests` when the applied
 * objects change, `tick` twice a second (pods, policy, traffic, the requests since the last tick).
 */

export interface PolicyView {
  readonly service: string;
  /** none: the mesh's default balancing (no hash, no persistent session). */
  readonly kind: "none" | "ring-hash" | "maglev" | "persistent-session" | "simple" | "absent";
  /** The cluster's balancer: least-request, ring-hash, maglev, round-robin, ... */
  readonly lbPolicy?: string;
  /** What the hash or the session reads, e.g. `cookie session-route (ttl 1800s)`. */
  readonly key?: string;
  /** namespace/name of the DestinationRule in force. */
  readonly destinationRule?: string;
}

export interface PodCard {
  readonly name: string;
  readonly namespace: string;
  readonly deployment: string;
  readonly status: string;
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly restarts: number;
  /** Requests per second through the gateway over the last second. */
  readonly rps: number;
  /** session_sessions_created_total of the running container; undefined until scraped. */
  readonly sessions?: number;
}

export interface DeploymentCard {
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly ready: number;
}

export interface ClientView {
  readonly id: number;
  readonly name: string;
  readonly color: string;
  /** The pod that answered last. */
  readonly pod?: string;
  /** The app's counter in the last answer ("Nth time access"). */
  readonly count?: number;
  /** Its last few answers all came from one pod. */
  readonly sticky: boolean;
  readonly ok: number;
  readonly errors: number;
  readonly lastError?: string;
}

export interface TrafficView {
  readonly running: boolean;
  readonly intervalMs: number;
  /** The header every simulated client sends with its own name, for the header-hash variant. */
  readonly userHeader: string;
  readonly clients: readonly ClientView[];
  /** Sticky clients among those with enough answers; undefined when none has. */
  readonly stickyShare?: number;
}

export interface RequestLine {
  readonly client: number;
  readonly pod?: string;
  readonly ok: boolean;
}

export interface HistoryPoint {
  readonly t: number;
  readonly rps: Readonly<Record<string, number>>;
  readonly sticky?: number;
}

export interface VariantView {
  readonly id: string;
  readonly label: string;
  /** What the control API's apply reports findings against. */
  readonly file: string;
  readonly text: string;
}

export interface HelloEvent {
  readonly admin: string;
  readonly gateway: string;
  readonly variants: readonly VariantView[];
  readonly history: readonly HistoryPoint[];
}

export interface ManifestsEvent {
  readonly revision: number;
  readonly yaml: string;
  /** The variant whose DestinationRule is applied, if one is. */
  readonly variant?: string;
}

export interface TickEvent {
  readonly now: number;
  readonly store: string;
  readonly pods: readonly PodCard[];
  readonly deployment?: DeploymentCard;
  readonly policy: PolicyView;
  readonly traffic: TrafficView;
  readonly requests: readonly RequestLine[];
  readonly point?: HistoryPoint;
}

/** The body of POST /api/v1/traffic: every field optional. */
export interface TrafficSettings {
  readonly running?: boolean;
  readonly clients?: number;
  readonly intervalMs?: number;
  /** New clients: empty cookie jars, counters from zero. */
  readonly reset?: boolean;
}

export const SERVICE = "session-svc";
export const MAX_CLIENTS = 12;
