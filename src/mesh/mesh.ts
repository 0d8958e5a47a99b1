/**
 * The local mesh put together: the control plane (applied objects), the ReplicaSets (pods as
 * processes), the push that turns objects and ready pods into the gateway's routes and clusters,
 * the ingress gateway, the admin/control API and, for `--store redis`, the session store.
 * `startMesh` returns once everything listens; `stop` ends every process it started. `setStore`
 * switches every replica between the in-memory and the Redis store while the mesh runs.
 */
import { randomBytes } from "node:crypto";
import type { EnvoyAdminSource } from "../envoy/admin/envoy-admin.js";
import { istioGatewayIdentity } from "../envoy/admin/identity.js";
import type { ProxyIdentity } from "../envoy/admin/views.js";
import type { Cluster } from "../envoy/cluster.js";
import { DataPlane } from "../envoy/data-plane.js";
import { IngressGateway } from "../envoy/gateway.js";
import { SessionAffinityError } from "../errors.js";
import { DEFAULT_GATEWAY_PROXY, translate } from "../istiod/index.js";
import { loadManifests } from "../manifests/index.js";
import { apiGroup, type ManifestDocument, type ManifestSet } from "../manifests/types.js";
import { endpointAddresses } from "../proxy-config/snapshot.js";
import type { XdsSnapshot } from "../xds/snapshot.js";
import { AdminServer } from "./admin.js";
import {
  type ApplyResult,
  ControlPlane,
  type ObjectOutcome,
  RESTARTED_AT_ANNOTATION,
} from "./control-plane.js";
import { podViews } from "./endpoints.js";
import { istiodInput, type StoredObjects, storedObjects } from "./istiod-input.js";
import type { MeshKind } from "./model.js";
import { type RedisHandle, startRedisStore } from "./redis.js";
import { ReplicaSets } from "./replica-set.js";
import { buildViews, type ResourceViews } from "./views.js";

export interface MeshOptions {
  /** Gateway port on 127.0.0.1 (0: a free one). Default 8080. */
  readonly port?: number;
  /** Admin/control API port on 127.0.0.1 (0: a free one). Default 15000. */
  readonly adminPort?: number;
  /** Manifest files or folders applied at start, all or nothing. */
  readonly manifests?: readonly string[];
  /** After applying, scale every Deployment to this many replicas. */
  readonly replicas?: number;
  readonly store?: "memory" | "redis";
  /** Redis for `store: "redis"`; without it a private redis-server is started. */
  readonly redisUrl?: string;
  /** Upper bound for the pods' SHUTDOWN_DELAY_MS (default 1000). */
  readonly shutdownDelayMs?: number;
  /** First CrashLoopBackOff delay (default 10 s, as the kubelet). */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Wait until every Deployment has its replicas ready before resolving (default true). */
  readonly waitReady?: boolean;
  readonly readyTimeoutMs?: number;
  /**
   * A real proxy's configuration to run instead of the manifests' translation (`up --config-dump`):
   * the gateway takes this snapshot, and each of its endpoint addresses is served by a local replica
   * (the i-th address in order by the i-th ready pod by name) while keeping its real address, so
   * hashing lands a key on the replica standing for the pod it reaches in the cluster.
   */
  readonly replay?: XdsSnapshot;
}

export type StoreName = "memory" | "redis";

export interface StoreSwitch {
  readonly store: StoreName;
  readonly previous: StoreName;
  /** Deployments rolled to pick up the new environment. */
  readonly restarted: readonly string[];
  readonly redisUrl?: string;
}

export class Mesh {
  readonly controlPlane = new ControlPlane();
  readonly replicaSets: ReplicaSets;
  readonly gateway: IngressGateway;
  readonly admin: AdminServer;
  readonly sessionSecret = randomBytes(32).toString("base64url");
  #store: StoreName;
  #redis: RedisHandle | undefined;
  readonly #redisUrlOption: string | undefined;
  // Shared by reference with the ReplicaSets, which read it whenever they create a pod: changing it
  // and rolling the Deployments is how a live store switch reaches every replica.
  readonly #envOverrides: Record<string, string> = {};
  // Stores being replaced: stopped once no pod uses them any more, or with the mesh.
  readonly #retiring = new Set<RedisHandle>();
  #switching: Promise<unknown> = Promise.resolve();
  /** Replay: which local replica serves each real endpoint address. */
  readonly #dial = new Map<string, string>();
  /** The gateway's xDS state: every push is translated by istiod and handed over whole. */
  readonly dataPlane = new DataPlane({
    listenerPort: DEFAULT_GATEWAY_PROXY.portMap[80] as number,
    dial: (address) => this.#dial.get(address) ?? address,
  });
  readonly #replay: XdsSnapshot | undefined;
  #objects: StoredObjects | undefined;
  readonly #startedAt = Date.now();
  #identity: ProxyIdentity | undefined;
  #version = 0;
  #pushes = 0;
  readonly #waiters = new Set<() => void>();
  #stopping: Promise<void> | undefined;
  // If the owning process exits without stop() (an uncaught error), its pods must not outlive it.
  readonly #onExit = () => {
    this.replicaSets.killAll();
    this.#redis?.kill();
    for (const r of this.#retiring) r.kill();
  };

  constructor(options: MeshOptions, redis: RedisHandle | undefined) {
    this.#redis = redis;
    this.#replay = options.replay;
    this.#store = options.store ?? "memory";
    this.#redisUrlOption = options.redisUrl ?? process.env.REDIS_URL;
    this.#setStoreEnv(redis);
    this.replicaSets = new ReplicaSets(this.controlPlane, {
      envOverrides: this.#envOverrides,
      sessionSecret: this.sessionSecret,
      ...(options.shutdownDelayMs === undefined ? {} : { shutdownDelayMs: options.shutdownDelayMs }),
      ...(options.backoffInitialMs === undefined ? {} : { backoffInitialMs: options.backoffInitialMs }),
      ...(options.backoffMaxMs === undefined ? {} : { backoffMaxMs: options.backoffMaxMs }),
      onPodChange: () => this.#push(),
    });
    this.#push();
    this.controlPlane.onChange((kinds: ReadonlySet<MeshKind>) => {
      if ([...kinds].some((k) => k !== "Deployment" && k !== "Secret")) this.#push();
    });
    this.gateway = new IngressGateway({
      port: options.port ?? 8080,
      snapshot: () => this.dataPlane.gatewaySnapshot(),
    });
    this.admin = new AdminServer(this, options.adminPort ?? 15000);
    process.once("exit", this.#onExit);
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.gateway.port}`;
  }

  get adminUrl(): string {
    return this.admin.url;
  }

  /** The store's address for output: a private server's password left out. */
  get redisUrl(): string | undefined {
    return this.#redis?.shownUrl;
  }

  get store(): StoreName {
    return this.#store;
  }

  #setStoreEnv(redis: RedisHandle | undefined): void {
    if (redis) {
      this.#envOverrides.SESSION_STORE = "redis";
      this.#envOverrides.REDIS_URL = redis.url;
    } else {
      // Back to what the manifests say, as a mesh started with --store memory runs them.
      delete this.#envOverrides.SESSION_STORE;
      delete this.#envOverrides.REDIS_URL;
    }
  }

  /**
   * Switches every replica's session store: the Redis one is REDIS_URL (as `up --store redis`) or a
   * private redis-server. Pods read the store from their environment at start, so every Deployment
   * gets a rolling restart, as `kubectl set env` would cause; the old Redis is stopped once the
   * Deployments have settled on pods that no longer use it. Sessions of the old store are not moved.
   */
  setStore(store: StoreName): Promise<StoreSwitch> {
    const next = this.#switching.then(
      () => this.#switchStore(store),
      () => this.#switchStore(store),
    );
    this.#switching = next.catch(() => {});
    return next;
  }

  async #switchStore(store: StoreName): Promise<StoreSwitch> {
    if (this.#stopping) throw new SessionAffinityError("ERR_RUNTIME", "the mesh is stopping");
    const previous = this.#store;
    if (store === previous) {
      return { store, previous, restarted: [], ...(this.#redis ? { redisUrl: this.#redis.shownUrl } : {}) };
    }
    const old = this.#redis;
    const redis = store === "redis" ? await startRedisStore(this.#redisUrlOption) : undefined;
    this.#redis = redis;
    this.#store = store;
    this.#setStoreEnv(redis);
    const restarted: string[] = [];
    for (const d of this.controlPlane.list("Deployment")) {
      await this.#nextRestartStamp(d.object.template);
      this.controlPlane.restart(d.object.namespace, d.object.name);
      restarted.push(`${d.object.namespace}/${d.object.name}`);
    }
    if (old) {
      this.#retiring.add(old);
      const retire = () => {
        this.#retiring.delete(old);
        return old.stop();
      };
      this.waitSettled(120_000)
        .then(retire, retire)
        .catch(() => {});
    }
    return { store, previous, restarted, ...(redis ? { redisUrl: redis.shownUrl } : {}) };
  }

  /**
   * `rollout restart` stamps the template with the time in whole seconds, so a second restart in the
   * same second would leave the template, and so the pods, unchanged: wait for the next second.
   */
  async #nextRestartStamp(template: unknown): Promise<void> {
    const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const annotations = (template as { metadata?: { annotations?: Record<string, unknown> } } | null)
      ?.metadata?.annotations;
    if (annotations?.[RESTARTED_AT_ANNOTATION] !== stamp()) return;
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
  }

  /** How many times routes or endpoints were pushed to the gateway. */
  get pushes(): number {
    return this.#pushes;
  }

  /** The xDS snapshot the gateway runs. */
  get xds(): XdsSnapshot {
    return this.dataPlane.snapshot;
  }

  /** What Envoy's admin endpoints read: the gateway's books and the proxy's identity. */
  envoyAdmin(adminPort: number): EnvoyAdminSource {
    if (this.#identity?.adminAddress.portValue !== adminPort) {
      this.#identity = istioGatewayIdentity({
        podName: "istio-ingressgateway",
        namespace: DEFAULT_GATEWAY_PROXY.namespace,
        podIp: "127.0.0.1",
        adminPort,
        startedAt: this.#startedAt,
        labels: DEFAULT_GATEWAY_PROXY.labels,
      });
    }
    return {
      books: { dataPlane: this.dataPlane, pool: this.gateway.pool, downstream: this.gateway.stats },
      identity: this.#identity,
      now: Date.now,
    };
  }

  get clusters(): ReadonlyMap<string, Cluster> {
    return this.dataPlane.clusters;
  }

  /** The pod listening at an endpoint address (`127.0.0.1:<port>`): Envoy knows addresses, not pods. */
  podAt(address: string): string | undefined {
    const local = this.#dial.get(address) ?? address;
    const port = Number(local.slice(local.lastIndexOf(":") + 1));
    return this.replicaSets.pods().find((p) => p.port === port)?.name;
  }

  views(): ResourceViews {
    return buildViews(this.controlPlane, this.replicaSets.pods());
  }

  /**
   * The xDS push: istiod translates the stored objects (re-read only when they changed) and the ready
   * endpoints, and the gateway takes the snapshot. Synchronous, so a change is in force at once.
   */
  #push(): void {
    if (this.#replay) {
      this.#replayPush(this.#replay);
      return;
    }
    const cp = this.controlPlane;
    if (this.#objects?.revision !== cp.revision) this.#objects = storedObjects(cp);
    const views = podViews(this.replicaSets.pods());
    const snapshot = translate(istiodInput(cp, this.#objects, views), String(++this.#version));
    if (this.dataPlane.apply(snapshot)) this.#pushes++;
    for (const wake of this.#waiters) wake();
  }

  /** Replay: the real addresses in order, each served by the ready pod of the same rank by name. */
  #replayPush(snapshot: XdsSnapshot): void {
    const ready = this.replicaSets
      .pods()
      .filter((p) => p.ready && !p.terminating && p.port !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
    this.#dial.clear();
    endpointAddresses(snapshot).forEach((address, i) => {
      const pod = ready[i];
      if (pod) this.#dial.set(address, `127.0.0.1:${pod.port}`);
    });
    if (this.dataPlane.apply(snapshot)) this.#pushes++;
    for (const wake of this.#waiters) wake();
  }

  /** Resolves when `check` holds, re-evaluated on every pod or object change. */
  waitFor(check: () => boolean, timeoutMs: number, what = "the mesh"): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const wake = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  /** Every Deployment has exactly its replicas, all ready and of the current template. */
  settled(): boolean {
    const v = this.views();
    return v.deployments.every(
      (d) =>
        d.ready === d.replicas &&
        d.upToDate === d.replicas &&
        v.pods.filter((p) => p.deployment === d.name && p.namespace === d.namespace).length === d.replicas,
    );
  }

  waitSettled(timeoutMs = 30_000): Promise<void> {
    return this.waitFor(() => this.settled(), timeoutMs, "every Deployment to be ready");
  }

  apply(set: ManifestSet): Promise<ApplyResult> {
    return this.controlPlane.apply(set);
  }

  async applyPaths(paths: readonly string[]): Promise<ApplyResult> {
    return this.controlPlane.apply(await loadManifests(paths));
  }

  delete(set: ManifestSet): ObjectOutcome[] {
    return this.controlPlane.delete(set);
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.admin.close().catch(() => {});
      await this.replicaSets.stop(5000);
      await this.gateway.close().catch(() => {});
      await this.#switching;
      await this.#redis?.stop();
      await Promise.all([...this.#retiring].map((r) => r.stop()));
      this.#retiring.clear();
      process.off("exit", this.#onExit);
    })();
    return this.#stopping;
  }
}

export async function startMesh(options: MeshOptions = {}): Promise<Mesh> {
  const redis =
    options.store === "redis" ? await startRedisStore(options.redisUrl ?? process.env.REDIS_URL) : undefined;
  const mesh = new Mesh(options, redis);
  try {
    await mesh.gateway.listen();
    await mesh.admin.listen();
    if (options.manifests && options.manifests.length > 0) {
      const set = await loadManifests(options.manifests);
      // Workloads and Services first: their schemas come precompiled, so the pods boot while the Istio
      // objects' schemas compile, most of the validation time. Every error rule about an Istio object
      // sees the workloads applied by then; any rejection still stops `up` as a whole.
      const istio = (d: ManifestDocument) => apiGroup(d.apiVersion) === "networking.istio.io";
      const workloads = { documents: set.documents.filter((d) => !istio(d)), problems: set.problems };
      const routing = { documents: set.documents.filter(istio), problems: [] };
      if (workloads.documents.length > 0 || workloads.problems.length > 0)
        await mesh.controlPlane.apply(workloads);
      if (options.replicas !== undefined) {
        for (const d of mesh.controlPlane.list("Deployment")) {
          mesh.controlPlane.scale(d.object.namespace, d.object.name, options.replicas);
        }
      }
      if (routing.documents.length > 0) await mesh.controlPlane.apply(routing);
      if (options.waitReady ?? true) await mesh.waitSettled(options.readyTimeoutMs ?? 30_000);
    }
    return mesh;
  } catch (err) {
    await mesh.stop();
    throw err;
  }
}
