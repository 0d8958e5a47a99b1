/**
 * The scenario matrix of `session-affinity scenarios`, without I/O: which combinations run, where each
 * policy's manifests come from, which `simulate` scenario predicts a disruption's moves, and how one
 * check's summary becomes a row.
 */
import { SessionAffinityError } from "../errors.js";
import type { Ratio, Summary } from "./analyze.js";
import type { FailureKind } from "./outcome.js";

export const POLICIES = ["none", "ring-hash", "maglev", "persistent-session"] as const;
export const STORES = ["memory", "redis"] as const;
export const DISRUPTIONS = ["scale", "kill-pod", "rollout"] as const;

export type Policy = (typeof POLICIES)[number];
export type Store = (typeof STORES)[number];
export type DisruptionKind = (typeof DISRUPTIONS)[number];

/** Every measurement starts from this many ready replicas; `scale` goes one above. */
export const REPLICAS = 5;
export const SCALE_TO = REPLICAS + 1;

export interface Scenario {
  readonly policy: Policy;
  readonly store: Store;
  readonly disruption: DisruptionKind;
}

export const POLICY_LABELS: Readonly<Record<Policy, string>> = {
  none: "no rule",
  "ring-hash": "ring hash",
  maglev: "Maglev",
  "persistent-session": "persistent session",
};

export const STORE_LABELS: Readonly<Record<Store, string>> = { memory: "memory", redis: "Redis" };

export const DISRUPTION_LABELS: Readonly<Record<DisruptionKind, string>> = {
  scale: `scale ${REPLICAS}→${SCALE_TO}`,
  "kill-pod": "pod killed (SIGKILL)",
  rollout: "rolling restart",
};

/**
 * Where a policy's manifests come from, relative to deploy/: the walkthrough's files as they are, or a
 * rendered combination (`kubectl kustomize`) so components are applied exactly as a cluster gets them.
 */
export type ManifestSource =
  | { readonly files: readonly string[] }
  | { readonly kustomize: string; readonly files?: undefined };

export const MANIFEST_SOURCES: Readonly<Record<Policy, ManifestSource>> = {
  none: { files: ["session.yaml", "session-gateway.yaml"] },
  "ring-hash": { files: ["session.yaml", "session-gateway.yaml", "session-affinity.yaml"] },
  maglev: { kustomize: "tests/maglev" },
  "persistent-session": { kustomize: "tests/persistent-session" },
};

/** What the gateway runs for the session Service once the manifests are applied (read from the mesh). */
export type Balancer = "ring-hash" | "maglev" | "other";

/** The part of a gateway cluster's config that decides where sessions go. */
export interface ClusterBalancing {
  readonly lbPolicy: string;
  readonly minRingSize?: number;
  readonly tableSize?: number;
  readonly session?: { readonly kind: string; readonly name: string };
}

/** The load-balancer policy each matrix policy must produce; a mismatch means the manifests changed. */
const EXPECTED: Readonly<Record<Policy, { lbPolicy: string; session: boolean }>> = {
  none: { lbPolicy: "least-request", session: false },
  "ring-hash": { lbPolicy: "ring-hash", session: false },
  maglev: { lbPolicy: "maglev", session: false },
  "persistent-session": { lbPolicy: "least-request", session: true },
};

export interface BalancerInForce {
  readonly balancer: Balancer;
  /** For the report, e.g. `maglev (table 65537)`. */
  readonly label: string;
  /** Why this is not what the policy's manifests should give, if it is not. */
  readonly mismatch?: string;
}

export function balancerInForce(policy: Policy, cluster: ClusterBalancing): BalancerInForce {
  const balancer: Balancer =
    cluster.lbPolicy === "ring-hash" || cluster.lbPolicy === "maglev" ? cluster.lbPolicy : "other";
  const size =
    cluster.lbPolicy === "ring-hash"
      ? ` (min ring ${cluster.minRingSize})`
      : cluster.lbPolicy === "maglev"
        ? ` (table ${cluster.tableSize})`
        : "";
  const session = cluster.session
    ? ` + persistent session ${cluster.session.kind} ${cluster.session.name}`
    : "";
  const label = `${cluster.lbPolicy}${size}${session}`;
  const want = EXPECTED[policy];
  const ok = want.lbPolicy === cluster.lbPolicy && want.session === (cluster.session !== undefined);
  return {
    balancer,
    label,
    ...(ok
      ? {}
      : {
          mismatch: `the manifests for ${POLICY_LABELS[policy]} gave ${label}, expected ${want.lbPolicy}${want.session ? " with a persistent session" : ""}`,
        }),
  };
}

const ALIASES: Readonly<Record<string, Partial<Scenario>>> = {
  none: { policy: "none" },
  "no-rule": { policy: "none" },
  "ring-hash": { policy: "ring-hash" },
  ring: { policy: "ring-hash" },
  maglev: { policy: "maglev" },
  "persistent-session": { policy: "persistent-session" },
  persistent: { policy: "persistent-session" },
  memory: { store: "memory" },
  redis: { store: "redis" },
  scale: { disruption: "scale" },
  "kill-pod": { disruption: "kill-pod" },
  kill: { disruption: "kill-pod" },
  rollout: { disruption: "rollout" },
  restart: { disruption: "rollout" },
};

export interface Filter {
  readonly policies: readonly Policy[];
  readonly stores: readonly Store[];
  readonly disruptions: readonly DisruptionKind[];
}

/**
 * `--only ring-hash,maglev,redis,scale`: names from one dimension are alternatives, dimensions must all
 * match; a dimension not named is not filtered.
 */
export function parseOnly(spec: string | undefined): Filter {
  const policies = new Set<Policy>();
  const stores = new Set<Store>();
  const disruptions = new Set<DisruptionKind>();
  const tokens = (spec ?? "")
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== "");
  if (spec !== undefined && tokens.length === 0) {
    throw new SessionAffinityError("ERR_USAGE", "scenarios: --only needs at least one name");
  }
  for (const token of tokens) {
    const alias = ALIASES[token];
    if (!alias) {
      throw new SessionAffinityError(
        "ERR_USAGE",
        `scenarios: --only ${JSON.stringify(token)} is not one of ${[...POLICIES, ...STORES, ...DISRUPTIONS].join(", ")}`,
      );
    }
    if (alias.policy) policies.add(alias.policy);
    if (alias.store) stores.add(alias.store);
    if (alias.disruption) disruptions.add(alias.disruption);
  }
  return {
    policies: policies.size ? POLICIES.filter((p) => policies.has(p)) : POLICIES,
    stores: stores.size ? STORES.filter((s) => stores.has(s)) : STORES,
    disruptions: disruptions.size ? DISRUPTIONS.filter((d) => disruptions.has(d)) : DISRUPTIONS,
  };
}

/** The combinations in report order: policy, then store, then disruption. */
export function scenarioMatrix(filter: Filter = parseOnly(undefined)): Scenario[] {
  const out: Scenario[] = [];
  for (const policy of filter.policies)
    for (const store of filter.stores)
      for (const disruption of filter.disruptions) out.push({ policy, store, disruption });
  return out;
}

export function scenarioName(s: Scenario): string {
  return `${POLICY_LABELS[s.policy]} × ${STORE_LABELS[s.store]} × ${DISRUPTION_LABELS[s.disruption]}`;
}

/**
 * The `simulate` scenario whose "moved" predicts this disruption on a hashing balancer. A SIGKILLed
 * pod is restarted in place at the same address, as a restarted container keeps its pod's IP, so once
 * it is ready again the ring or table is what it was: nothing to predict (no session moves; with the
 * memory store the sessions it held lose their state). A rolling restart replaces every pod, and the
 * other balancers do not hash: no prediction either.
 */
export function predictedScenario(balancer: Balancer, disruption: DisruptionKind): string | undefined {
  if (balancer === "other") return undefined;
  if (disruption === "scale") return `scale ${REPLICAS}→${SCALE_TO}`;
  return undefined;
}

export interface Prediction {
  readonly balancer: "ring-hash" | "maglev";
  readonly scenario: string;
  readonly movedPercent: number;
}

export interface ScenarioResult extends Scenario {
  readonly name: string;
  /** The balancer the gateway ran for the session Service, e.g. `ring-hash (min ring 1024)`. */
  readonly lb: string;
  readonly clients: number;
  readonly requests: number;
  /** Of clients, stayed on one pod within each half (before and after the disruption). */
  readonly stickiness: Ratio;
  readonly continuity: Ratio;
  readonly moved: Ratio;
  readonly lost: Ratio;
  readonly failed: number;
  readonly failures: Readonly<Partial<Record<FailureKind, number>>>;
  readonly failedAfter: number;
  readonly requestsAfter: number;
  readonly prediction?: Prediction;
  readonly durationMs: number;
  /** Set when the scenario could not be measured; the figures are then empty. */
  readonly error?: string;
}

export interface ScenariosReport {
  readonly date: string;
  readonly clients: number;
  readonly requests: number;
  readonly replicas: number;
  readonly results: readonly ScenarioResult[];
}

const EMPTY: Ratio = { count: 0, of: 0, percent: undefined };

export function resultFromSummary(
  scenario: Scenario,
  context: { lb: string; durationMs: number; prediction?: Prediction },
  summary: Summary,
): ScenarioResult {
  const d = summary.disruption;
  return {
    ...scenario,
    name: scenarioName(scenario),
    lb: context.lb,
    clients: summary.clients,
    requests: summary.requests,
    stickiness: summary.stickiness,
    continuity: summary.continuity,
    moved: d?.moved ?? EMPTY,
    lost: d?.lost ?? EMPTY,
    failed: summary.failed,
    failures: summary.failures,
    failedAfter: d?.failedAfter ?? 0,
    requestsAfter: d?.requestsAfter ?? 0,
    ...(context.prediction ? { prediction: context.prediction } : {}),
    durationMs: context.durationMs,
  };
}

export function failedResult(scenario: Scenario, error: string, durationMs: number): ScenarioResult {
  return {
    ...scenario,
    name: scenarioName(scenario),
    lb: "",
    clients: 0,
    requests: 0,
    stickiness: EMPTY,
    continuity: EMPTY,
    moved: EMPTY,
    lost: EMPTY,
    failed: 0,
    failures: {},
    failedAfter: 0,
    requestsAfter: 0,
    durationMs,
    error,
  };
}
