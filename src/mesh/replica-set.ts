/**
 * The Deployment and ReplicaSet controllers in one: keeps `replicas` pods of the current template
 * hash, replaces pods that are deleted, and rolls a template change (apply, rollout restart) with the
 * RollingUpdate rules — at most replicas+maxSurge pods, at least replicas−maxUnavailable ready —
 * so old pods go only as new ones become ready. Scale-down picks not-ready pods first, then the
 * youngest, as the ReplicaSet controller ranks them.
 */
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { diesWithParent } from "./child-command.js";
import type { ControlPlane } from "./control-plane.js";
import type { DeploymentModel } from "./model.js";
import { Pod, type PodSpec } from "./pod.js";
import { podName, podTemplateHash } from "./pod-name.js";

export interface ReplicaOptions {
  /** Environment every pod gets on top of its manifest (store choice, log level). */
  readonly envOverrides?: Readonly<Record<string, string>>;
  /** Upper bound for the manifest's SHUTDOWN_DELAY_MS: endpoint removal here is immediate. */
  readonly shutdownDelayMs?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Shared SESSION_SECRET when the Secret a pod refers to is not applied. */
  readonly sessionSecret?: string;
  readonly onPodChange?: (pod: Pod) => void;
}

/** The CLI entry a pod runs, next to this module (src/ under tsx, dist/ when built); it dies with the mesh. */
export function serviceCommand(): PodSpec["command"] {
  const here = fileURLToPath(import.meta.url);
  const entry = join(dirname(here), "..", "cli", here.endsWith(".ts") ? "main.ts" : "main.js");
  // The test runner's and inspector's flags must not leak into the service process.
  const execArgv = process.execArgv.filter((a) => !/^--(test|inspect|watch)/.test(a));
  return { ...diesWithParent(process.execPath, [...execArgv, entry, "serve"]), cwd: process.cwd() };
}

function count(value: number | string, replicas: number, roundUp: boolean): number {
  if (typeof value === "number") return value;
  const fraction = (replicas * Number(value.slice(0, -1))) / 100;
  return roundUp ? Math.ceil(fraction) : Math.floor(fraction);
}

export class ReplicaSets {
  readonly #pods = new Map<string, Pod>();
  readonly #controlPlane: ControlPlane;
  readonly #options: ReplicaOptions;
  readonly #sessionSecret: string;
  readonly #command = serviceCommand();
  #stopped = false;
  #scheduled = false;

  constructor(controlPlane: ControlPlane, options: ReplicaOptions = {}) {
    this.#controlPlane = controlPlane;
    this.#options = options;
    this.#sessionSecret = options.sessionSecret ?? randomBytes(32).toString("base64url");
    controlPlane.onChange((kinds) => {
      if (kinds.has("Deployment") || kinds.has("Secret")) this.reconcile();
    });
  }

  /** Every pod that still exists (including terminating ones), oldest first. */
  pods(): Pod[] {
    return [...this.#pods.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  pod(name: string): Pod | undefined {
    return this.#pods.get(name);
  }

  /** `kubectl delete pod`: graceful termination; the ReplicaSet creates a replacement at once. */
  deletePod(name: string): Promise<void> | undefined {
    const pod = this.#pods.get(name);
    if (!pod || pod.terminating) return pod?.finished;
    const done = pod.terminate();
    this.reconcile();
    return done;
  }

  /** Runs the controllers now, and again whenever a pod changes (coalesced into one microtask). */
  reconcile(): void {
    if (this.#stopped) return;
    const deployments = this.#controlPlane.list("Deployment").map((a) => a.object);
    const live = new Set(deployments.map((d) => `${d.namespace}/${d.name}`));
    for (const pod of this.#pods.values()) {
      if (!live.has(`${pod.spec.namespace}/${pod.spec.deployment}`) && !pod.terminating) void pod.terminate();
    }
    for (const deployment of deployments) this.#reconcileDeployment(deployment);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.reconcile();
    });
  }

  #reconcileDeployment(d: DeploymentModel): void {
    const hash = podTemplateHash(d.template);
    const alive = [...this.#pods.values()].filter(
      (p) => p.spec.namespace === d.namespace && p.spec.deployment === d.name && !p.terminating,
    );
    const current = alive.filter((p) => p.spec.templateHash === hash);
    const old = alive.filter((p) => p.spec.templateHash !== hash);
    if (old.length === 0) {
      for (let i = current.length; i < d.replicas; i++) this.#create(d, hash);
      for (const pod of rankForDeletion(current).slice(0, Math.max(0, current.length - d.replicas))) {
        void pod.terminate();
      }
      return;
    }
    let maxSurge = count(d.maxSurge, d.replicas, true);
    const maxUnavailable = count(d.maxUnavailable, d.replicas, false);
    if (maxSurge === 0 && maxUnavailable === 0) maxSurge = 1;
    const room = d.replicas + maxSurge - alive.length;
    const wanted = Math.min(room, d.replicas - current.length);
    for (let i = 0; i < wanted; i++) this.#create(d, hash);
    // Old pods that are not ready serve nobody: they go first and cost no availability.
    for (const pod of old.filter((p) => !p.ready)) void pod.terminate();
    const minAvailable = d.replicas - maxUnavailable;
    let available = alive.filter((p) => p.ready).length;
    for (const pod of old.filter((p) => p.ready).sort((a, b) => a.createdAt - b.createdAt)) {
      if (available - 1 < minAvailable) break;
      available--;
      void pod.terminate();
    }
    for (const pod of rankForDeletion(current).slice(0, Math.max(0, current.length - d.replicas))) {
      void pod.terminate();
    }
  }

  #create(d: DeploymentModel, hash: string): void {
    let name = podName(d.name, hash);
    while (this.#pods.has(name)) name = podName(d.name, hash);
    const { env, configError } = this.#env(d, name);
    const spec: PodSpec = {
      name,
      namespace: d.namespace,
      deployment: d.name,
      templateHash: hash,
      labels: { ...d.podLabels, "pod-template-hash": hash },
      env,
      ...(configError ? { configError } : {}),
      ...(d.readinessProbe ? { readinessProbe: d.readinessProbe } : {}),
      ...(d.livenessProbe ? { livenessProbe: d.livenessProbe } : {}),
      terminationGracePeriodMs: d.terminationGracePeriodSeconds * 1000,
      containerPorts: d.containerPorts,
      command: this.#command,
    };
    const pod = new Pod(spec, {
      onChange: (p) => {
        if (p.gone) this.#pods.delete(p.name);
        this.#options.onPodChange?.(p);
        this.#schedule();
      },
      ...(this.#options.backoffInitialMs === undefined
        ? {}
        : { backoffInitialMs: this.#options.backoffInitialMs }),
      ...(this.#options.backoffMaxMs === undefined ? {} : { backoffMaxMs: this.#options.backoffMaxMs }),
    });
    this.#pods.set(name, pod);
    pod.start();
  }

  /** The container environment as the kubelet resolves it, then the mesh's local overrides. */
  #env(d: DeploymentModel, name: string): { env: Record<string, string>; configError?: string } {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !key.startsWith("NODE_TEST")) env[key] = value;
    }
    let configError: string | undefined;
    for (const v of d.env) {
      if (v.fieldRef !== undefined) {
        const fields: Record<string, string> = {
          "metadata.name": name,
          "metadata.namespace": d.namespace,
          "status.podIP": "127.0.0.1",
          "spec.nodeName": "local",
        };
        env[v.name] = fields[v.fieldRef] ?? "";
      } else if (v.secretKeyRef) {
        const secret = this.#controlPlane.get("Secret", d.namespace, v.secretKeyRef.name)?.object;
        const value = secret?.kind === "Secret" ? secret.data[v.secretKeyRef.key] : undefined;
        if (value !== undefined) env[v.name] = value;
        else if (v.name === "SESSION_SECRET") env[v.name] = this.#sessionSecret;
        else if (!v.secretKeyRef.optional) {
          configError = `secret "${v.secretKeyRef.name}" key ${v.secretKeyRef.key} not found`;
        }
      } else {
        env[v.name] = v.value ?? "";
      }
    }
    env.PORT = "0";
    env.HOST = "127.0.0.1";
    // A pod must not outlive the mesh even when the mesh itself is SIGKILLed.
    env.EXIT_WITH_PARENT = "true";
    const bound = this.#options.shutdownDelayMs ?? 1000;
    const declared = Number(env.SHUTDOWN_DELAY_MS ?? "0");
    env.SHUTDOWN_DELAY_MS = String(Math.min(Number.isFinite(declared) ? declared : 0, bound));
    Object.assign(env, this.#options.envOverrides ?? {});
    // The pod's port is read from the service's info-level "listening" line, so quieter levels
    // would leave the pod unreachable.
    if (["warn", "error", "fatal", "silent"].includes(env.LOG_LEVEL ?? "")) env.LOG_LEVEL = "info";
    return configError ? { env, configError } : { env };
  }

  /** SIGKILLs every pod process at once; for process exit, when there is no time to be graceful. */
  killAll(): void {
    this.#stopped = true;
    for (const pod of this.#pods.values()) pod.signal("SIGKILL");
  }

  /** Terminates every pod and waits for their processes to exit. */
  async stop(gracePeriodMs?: number): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#pods.values()].map((p) => p.terminate(gracePeriodMs)));
  }
}

/** The ReplicaSet controller's deletion order: not ready before ready, then the youngest first. */
function rankForDeletion(pods: readonly Pod[]): Pod[] {
  return [...pods].sort((a, b) => Number(a.ready) - Number(b.ready) || b.createdAt - a.createdAt);
}
