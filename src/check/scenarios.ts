/**
 * Runs the scenario matrix on the local mesh: for each combination a fresh mesh on free ports (and, for
 * Redis, a private redis-server), so every measurement starts from five ready replicas and no
 * sessions; then the check with the disruption at half time; then everything is stopped.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { SessionAffinityError } from "../errors.js";
import { DEFAULT_TABLE_SIZE } from "../lb/maglev.js";
import { DEFAULT_MIN_RING_SIZE } from "../lb/ring-hash.js";
import { simulate } from "../lb/simulate.js";
import { type Mesh, startMesh } from "../mesh/mesh.js";
import { type RedisHandle, startRedisStore } from "../mesh/redis.js";
import { analyze } from "./analyze.js";
import { type MeshAction, meshDisruption } from "./mesh-disruption.js";
import { runCheck } from "./run-check.js";
import {
  balancerInForce,
  type DisruptionKind,
  failedResult,
  MANIFEST_SOURCES,
  type Policy,
  type Prediction,
  predictedScenario,
  REPLICAS,
  resultFromSummary,
  SCALE_TO,
  type Scenario,
  type ScenarioResult,
  type ScenariosReport,
  scenarioName,
} from "./scenario-matrix.js";

const run = promisify(execFile);

/** deploy/ next to the package: ../../deploy from src/check or dist/check. */
export const DEPLOY_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "deploy");

export interface ScenariosOptions {
  readonly scenarios: readonly Scenario[];
  readonly clients: number;
  readonly requests: number;
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  /** Upper bound for one scenario, mesh start and stop included. */
  readonly scenarioTimeoutMs?: number;
  readonly deployRoot?: string;
  readonly log?: (line: string) => void;
  /** Stops the run: the current scenario's mesh is torn down and no further scenario starts. */
  readonly signal?: AbortSignal;
}

/** Sessions `simulate` draws for a prediction: enough for a tenth of a percent. */
const PREDICTION_SESSIONS = 100_000;
// Generous: five pods start in a few seconds, but much longer on a loaded machine.
const MESH_READY_TIMEOUT_MS = 150_000;

const ACTIONS: Readonly<Record<DisruptionKind, MeshAction>> = {
  scale: { scale: SCALE_TO },
  "kill-pod": { killPod: true },
  rollout: { rollout: true },
};

/** Renders each policy's manifests once per run (kustomize output goes to a private temp folder). */
class ManifestCache {
  readonly #root: string;
  readonly #rendered = new Map<Policy, Promise<string[]>>();
  #dir: Promise<string> | undefined;

  constructor(root: string) {
    this.#root = root;
  }

  paths(policy: Policy): Promise<string[]> {
    let paths = this.#rendered.get(policy);
    if (!paths) {
      paths = this.#render(policy);
      this.#rendered.set(policy, paths);
    }
    return paths;
  }

  async #render(policy: Policy): Promise<string[]> {
    const source = MANIFEST_SOURCES[policy];
    if (source.files) return source.files.map((f) => join(this.#root, f));
    const folder = join(this.#root, source.kustomize);
    let yaml: string;
    try {
      ({ stdout: yaml } = await run(
        "kubectl",
        ["kustomize", "--load-restrictor", "LoadRestrictionsNone", folder],
        { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      ));
    } catch (err) {
      throw new SessionAffinityError(
        "ERR_RUNTIME",
        `kubectl kustomize ${folder} failed (${(err as Error).message.split("\n")[0]}); kubectl is needed to render deploy/${source.kustomize}`,
        { cause: err },
      );
    }
    this.#dir ??= mkdtemp(join(tmpdir(), "session-affinity-scenarios-"));
    const file = join(await this.#dir, `${policy}.yaml`);
    await writeFile(file, yaml);
    return [file];
  }

  async dispose(): Promise<void> {
    if (this.#dir) await rm(await this.#dir, { recursive: true, force: true });
  }
}

/** `simulate`'s figure for one balancer and size, computed once per run. */
class Predictions {
  readonly #cache = new Map<string, ReturnType<typeof simulate>>();

  get(balancer: "ring-hash" | "maglev", size: number | undefined, scenario: string): Prediction | undefined {
    const key = `${balancer}/${size}`;
    let results = this.#cache.get(key);
    if (!results) {
      results = simulate({
        sessions: PREDICTION_SESSIONS,
        from: REPLICAS,
        to: SCALE_TO,
        seed: 1,
        minRingSize: balancer === "ring-hash" ? (size ?? DEFAULT_MIN_RING_SIZE) : DEFAULT_MIN_RING_SIZE,
        tableSize: balancer === "maglev" ? (size ?? DEFAULT_TABLE_SIZE) : DEFAULT_TABLE_SIZE,
        policies: [balancer],
      });
      this.#cache.set(key, results);
    }
    const hit = results.find((r) => r.scenario === scenario);
    return hit ? { balancer, scenario, movedPercent: hit.movedPercent } : undefined;
  }
}

/** The gateway cluster behind the routes: the one cluster that names a Service. */
function sessionCluster(mesh: Mesh) {
  const routed = new Set(
    mesh.dataPlane.routes.virtualHosts.flatMap((v) =>
      v.routes.flatMap((r) => r.destinations.map((d) => d.cluster)),
    ),
  );
  const withService = [...mesh.clusters.values()]
    .map((c) => c.config)
    .filter((c) => c.service !== undefined && routed.has(c.name));
  if (withService.length !== 1) {
    throw new SessionAffinityError(
      "ERR_RUNTIME",
      `expected one routed Service cluster, the gateway has ${withService.length}`,
    );
  }
  return withService[0] as NonNullable<(typeof withService)[number]>;
}

/** `work`, unless the time runs out or `signal` aborts first: then `onAbandon` runs before the rejection. */
function bounded<T>(
  work: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
  onAbandon: () => Promise<void>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    const give = (why: string) => {
      void onAbandon().finally(() => reject(new SessionAffinityError("ERR_RUNTIME", why)));
    };
    timer = setTimeout(() => give(`scenario did not finish within ${ms / 1000} s`), ms);
    onAbort = () => give("interrupted");
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, abandoned]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  });
}

async function runOne(
  scenario: Scenario,
  options: ScenariosOptions,
  manifests: ManifestCache,
  predictions: Predictions,
): Promise<ScenarioResult> {
  const started = Date.now();
  let redis: RedisHandle | undefined;
  let mesh: Mesh | undefined;
  let abandoned = false;
  const teardown = async () => {
    await mesh?.stop();
    await redis?.stop();
  };
  const abandon = () => {
    abandoned = true;
    return teardown();
  };
  const stillWanted = () => {
    if (abandoned) throw new SessionAffinityError("ERR_RUNTIME", "scenario abandoned");
  };
  const measure = async (): Promise<ScenarioResult> => {
    const paths = await manifests.paths(scenario.policy);
    // Always a private server: REDIS_URL may name a shared Redis, and sessions must start empty.
    if (scenario.store === "redis") redis = await startRedisStore(undefined);
    stillWanted();
    mesh = await startMesh({
      port: 0,
      adminPort: 0,
      manifests: paths,
      replicas: REPLICAS,
      store: scenario.store,
      ...(redis ? { redisUrl: redis.url } : {}),
      readyTimeoutMs: MESH_READY_TIMEOUT_MS,
    });
    stillWanted();
    const cluster = sessionCluster(mesh);
    const inForce = balancerInForce(scenario.policy, cluster);
    if (inForce.mismatch) throw new SessionAffinityError("ERR_RUNTIME", inForce.mismatch);
    const simulated = predictedScenario(inForce.balancer, scenario.disruption);
    const prediction =
      simulated && inForce.balancer !== "other"
        ? predictions.get(
            inForce.balancer,
            inForce.balancer === "ring-hash" ? cluster.minRingSize : cluster.tableSize,
            simulated,
          )
        : undefined;
    const disruption = meshDisruption(mesh.adminUrl, ACTIONS[scenario.disruption]);
    const records = await runCheck({
      url: `${mesh.gatewayUrl}/user`,
      clients: options.clients,
      requests: options.requests,
      concurrency: options.concurrency ?? Math.min(options.clients, 20),
      timeoutMs: options.timeoutMs ?? 5000,
      jar: "browser",
      headers: {},
      insecure: false,
      disruption,
    });
    const summary = analyze(records, disruption.label);
    return resultFromSummary(
      scenario,
      { lb: inForce.label, durationMs: Date.now() - started, ...(prediction ? { prediction } : {}) },
      summary,
    );
  };
  const measuring = measure();
  try {
    return await bounded(measuring, options.scenarioTimeoutMs ?? 300_000, options.signal, abandon);
  } catch (err) {
    return failedResult(scenario, (err as Error).message, Date.now() - started);
  } finally {
    // After a timeout the mesh or redis may still have been starting: wait for that (each step is
    // bounded on its own) so nothing it started outlives the scenario.
    await measuring.catch(() => {});
    await teardown();
  }
}

const pct = (p: number | undefined) => (p === undefined ? "n/a" : `${p.toFixed(0)}%`);

/** Runs the scenarios one after the other (they share the machine's cores) and returns every row. */
export async function runScenarios(options: ScenariosOptions): Promise<ScenariosReport> {
  const log = options.log ?? (() => {});
  const manifests = new ManifestCache(options.deployRoot ?? DEPLOY_ROOT);
  const predictions = new Predictions();
  const results: ScenarioResult[] = [];
  try {
    for (const [i, scenario] of options.scenarios.entries()) {
      if (options.signal?.aborted) break;
      log(`[${i + 1}/${options.scenarios.length}] ${scenarioName(scenario)}: starting a mesh`);
      const r = await runOne(scenario, options, manifests, predictions);
      results.push(r);
      const seconds = (r.durationMs / 1000).toFixed(1);
      log(
        r.error
          ? `[${i + 1}/${options.scenarios.length}] failed after ${seconds} s: ${r.error}`
          : `[${i + 1}/${options.scenarios.length}] moved ${pct(r.moved.percent)}, state lost ${pct(r.lost.percent)}, ${r.failed} of ${r.requests} requests failed (${seconds} s)`,
      );
    }
  } finally {
    await manifests.dispose();
  }
  return {
    date: new Date().toISOString(),
    clients: options.clients,
    requests: options.requests,
    replicas: REPLICAS,
    results,
  };
}
