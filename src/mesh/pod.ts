/**
 * One pod: a real process of the session service, run the way the kubelet runs a container. The
 * port is ephemeral (PORT=0) and read from the service's "listening" log line; a container restarted
 * in place listens on the same port again, as a restarted container keeps its pod's IP; readiness and
 * liveness are HTTP probes with the manifest's period and thresholds (the first readiness probe runs
 * as soon as the process listens, like a probe without initialDelaySeconds). A container that exits
 * on its own is restarted in place with the kubelet's back-off (immediately, then 10 s doubling to
 * 5 min, shown as CrashLoopBackOff). Termination marks the pod terminating first, so its endpoint is
 * gone before SIGTERM is sent, then waits the grace period and SIGKILLs what is left.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { createInterface } from "node:readline";
import { loopbackPortFree } from "./free-port.js";
import type { HttpProbe } from "./model.js";

export type PodReason =
  | "ContainerCreating"
  | "Running"
  | "Error"
  | "CrashLoopBackOff"
  | "CreateContainerConfigError"
  | "Terminating";

export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly deployment: string;
  readonly templateHash: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string>>;
  /** Why the container cannot be configured (a missing Secret); the pod then never starts. */
  readonly configError?: string;
  readonly readinessProbe?: HttpProbe;
  readonly livenessProbe?: HttpProbe;
  readonly terminationGracePeriodMs: number;
  readonly containerPorts: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly command: { readonly file: string; readonly args: readonly string[]; readonly cwd: string };
}

export interface PodOptions {
  /** Called whenever readiness, port, status or existence changes (synchronously). */
  readonly onChange: (pod: Pod) => void;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  readonly now?: () => number;
}

export interface PodStatus {
  readonly name: string;
  readonly namespace: string;
  readonly deployment: string;
  readonly templateHash: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
  readonly reason: PodReason;
  readonly restarts: number;
  readonly port: number | undefined;
  readonly pid: number | undefined;
  readonly createdAt: number;
  readonly terminating: boolean;
  readonly lastExit?: { readonly code: number | null; readonly signal: string | null; readonly at: number };
  readonly message?: string;
}

const LOG_LINES = 200;

export class Pod {
  readonly spec: PodSpec;
  readonly createdAt: number;
  readonly #options: PodOptions;
  readonly #now: () => number;
  #child: ChildProcess | undefined;
  #port: number | undefined;
  /** The port the last container listened on; its in-place restart asks for it again. */
  #podPort: number | undefined;
  #ready = false;
  #reason: PodReason = "ContainerCreating";
  #restarts = 0;
  #terminating = false;
  #gone = false;
  #lastExit: PodStatus["lastExit"];
  #timers = new Set<NodeJS.Timeout>();
  #readyFailures = 0;
  #liveFailures = 0;
  readonly #log: string[] = [];
  readonly #finished: Promise<void>;
  #finish!: () => void;

  constructor(spec: PodSpec, options: PodOptions) {
    this.spec = spec;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.createdAt = this.#now();
    this.#finished = new Promise((resolve) => {
      this.#finish = resolve;
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get ready(): boolean {
    return this.#ready && !this.#terminating;
  }

  get terminating(): boolean {
    return this.#terminating;
  }

  get gone(): boolean {
    return this.#gone;
  }

  /** Where the process listens; an endpoint only while ready. */
  get port(): number | undefined {
    return this.#port;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Resolves when the pod is gone (terminated and its process exited). */
  get finished(): Promise<void> {
    return this.#finished;
  }

  status(): PodStatus {
    return {
      name: this.spec.name,
      namespace: this.spec.namespace,
      deployment: this.spec.deployment,
      templateHash: this.spec.templateHash,
      labels: this.spec.labels,
      ready: this.ready,
      reason: this.#terminating ? "Terminating" : this.#reason,
      restarts: this.#restarts,
      port: this.#port,
      pid: this.#child?.pid,
      createdAt: this.createdAt,
      terminating: this.#terminating,
      ...(this.#lastExit ? { lastExit: this.#lastExit } : {}),
      ...(this.spec.configError ? { message: this.spec.configError } : {}),
    };
  }

  /** The last lines the process wrote (stdout and stderr). */
  logs(): string[] {
    return [...this.#log];
  }

  start(): void {
    if (this.spec.configError) {
      this.#reason = "CreateContainerConfigError";
      this.#changed();
      return;
    }
    this.#launch();
  }

  #launch(): void {
    if (this.#terminating) return;
    // The process is the container: it runs (not ready) from the moment it is spawned.
    this.#reason = "Running";
    const { command } = this.spec;
    const env =
      this.#podPort === undefined ? this.spec.env : { ...this.spec.env, PORT: String(this.#podPort) };
    const child = spawn(command.file, [...command.args], {
      cwd: command.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      this.#remember(line);
      if (this.#port === undefined && this.#child === child) this.#readPort(line);
    });
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) =>
      this.#remember(line),
    );
    child.once("error", (err) => this.#remember(`spawn error: ${err.message}`));
    child.once("exit", (code, signal) => this.#exited(child, code, signal));
    this.#changed();
  }

  #remember(line: string): void {
    this.#log.push(line);
    if (this.#log.length > LOG_LINES) this.#log.shift();
  }

  #readPort(line: string): void {
    if (!line.includes("session service listening")) return;
    try {
      const port = (JSON.parse(line) as { port?: unknown }).port;
      if (typeof port !== "number") return;
      this.#port = port;
      this.#podPort = port;
      this.#changed();
      this.#probeReadiness();
      const live = this.spec.livenessProbe;
      if (live)
        this.#every(live.periodSeconds * 1000, () => this.#probeLiveness(), live.initialDelaySeconds * 1000);
    } catch {
      // Not JSON: a human-readable log line that happens to contain the words.
    }
  }

  #every(periodMs: number, run: () => Promise<void> | void, firstDelayMs = periodMs): void {
    const child = this.#child;
    const tick = async () => {
      this.#timers.delete(timer);
      if (this.#child !== child || this.#gone) return;
      await run();
      if (this.#child !== child || this.#gone) return;
      timer = setTimeout(tick, periodMs);
      this.#timers.add(timer);
    };
    let timer = setTimeout(tick, firstDelayMs);
    this.#timers.add(timer);
  }

  #probeReadiness(): void {
    const probe = this.spec.readinessProbe;
    if (!probe) {
      this.#setReady(true);
      return;
    }
    this.#every(
      probe.periodSeconds * 1000,
      async () => {
        const ok = await this.#probe(probe);
        if (ok) {
          this.#readyFailures = 0;
          this.#setReady(true);
        } else if (++this.#readyFailures >= probe.failureThreshold) {
          this.#setReady(false);
        }
      },
      probe.initialDelaySeconds * 1000,
    );
  }

  async #probeLiveness(): Promise<void> {
    const probe = this.spec.livenessProbe as HttpProbe;
    if (await this.#probe(probe)) {
      this.#liveFailures = 0;
      return;
    }
    if (++this.#liveFailures >= probe.failureThreshold && !this.#terminating) {
      this.#remember(`liveness probe failed ${this.#liveFailures} times: restarting the container`);
      this.#liveFailures = 0;
      this.#stopProcess(this.#child);
    }
  }

  #probe(probe: HttpProbe): Promise<boolean> {
    const port = this.#port;
    if (port === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const req = request(
        { host: "127.0.0.1", port, path: probe.path, agent: false, timeout: probe.timeoutSeconds * 1000 },
        (res) => {
          res.resume();
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
        },
      );
      req.once("timeout", () => req.destroy());
      req.once("error", () => resolve(false));
      req.end();
    });
  }

  #setReady(ready: boolean): void {
    if (this.#ready === ready) return;
    this.#ready = ready;
    this.#changed();
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#lastExit = { code, signal, at: this.#now() };
    this.#remember(`container exited: code ${code} signal ${signal}`);
    // A container that never listened may have failed to bind its old port: the next one takes any.
    if (this.#port === undefined) this.#podPort = undefined;
    this.#child = undefined;
    this.#port = undefined;
    this.#ready = false;
    this.#readyFailures = 0;
    this.#liveFailures = 0;
    this.#clearTimers();
    if (this.#terminating) {
      this.#gone = true;
      this.#changed();
      this.#finish();
      return;
    }
    this.#restarts++;
    const delay = this.#backoffMs();
    this.#reason = delay > 0 ? "CrashLoopBackOff" : "Error";
    this.#changed();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#relaunch();
    }, delay);
    this.#timers.add(timer);
  }

  /**
   * A real pod keeps its IP, so nothing can take its address; here another process may have taken
   * the old port during the back-off, and asking for it would crash the container once more.
   */
  async #relaunch(): Promise<void> {
    if (this.#podPort !== undefined && !(await loopbackPortFree(this.#podPort))) this.#podPort = undefined;
    this.#launch();
  }

  #backoffMs(): number {
    if (this.#restarts <= 1) return 0;
    const initial = this.#options.backoffInitialMs ?? 10_000;
    const max = this.#options.backoffMaxMs ?? 300_000;
    return Math.min(max, initial * 2 ** (this.#restarts - 2));
  }

  #stopProcess(child: ChildProcess | undefined): void {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, this.spec.terminationGracePeriodMs);
    this.#timers.add(timer);
  }

  /**
   * Graceful deletion: not ready and terminating at once (the caller's endpoint update runs inside
   * onChange, before the signal), then SIGTERM and SIGKILL after the grace period.
   */
  terminate(gracePeriodMs = this.spec.terminationGracePeriodMs): Promise<void> {
    if (this.#terminating) return this.#finished;
    this.#terminating = true;
    this.#changed();
    const child = this.#child;
    this.#clearTimers();
    if (!child) {
      this.#gone = true;
      this.#changed();
      this.#finish();
      return this.#finished;
    }
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, gracePeriodMs);
    this.#timers.add(timer);
    return this.#finished;
  }

  /** Sends a signal to the container process (a crash from outside, as `kill -9` on a node). */
  signal(signal: NodeJS.Signals): boolean {
    return this.#child?.kill(signal) ?? false;
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #changed(): void {
    this.#options.onChange(this);
  }
}
