/**
 * The server side of the dashboard, mounted by the admin server: the page's files, the event stream
 * (GET /api/v1/events) and the simulated traffic (GET/POST /api/v1/traffic). Everything it shows is
 * measured: requests per pod from the gateway's per-endpoint counters, sessions from each pod's own
 * /metrics, the policy from the pushed gateway config, stickiness from the simulated clients'
 * answers. Work that costs anything (ticks, scraping pods) runs only while a page is connected.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse, stringify } from "yaml";
import { SessionAffinityError } from "../errors.js";
import { canonicalJson } from "../manifests/canonical-json.js";
import type { Mesh } from "../mesh/mesh.js";
import type { MeshKind } from "../mesh/model.js";
import { Assets } from "./assets.js";
import { routingPolicy } from "./policy.js";
import {
  type HelloEvent,
  type HistoryPoint,
  type ManifestsEvent,
  type PodCard,
  SERVICE,
  type TickEvent,
  type TrafficSettings,
  type TrafficView,
  type VariantView,
} from "./protocol.js";
import { TrafficSimulator } from "./traffic.js";
import { loadVariants } from "./variants.js";

const TICK_MS = 500;
const SAMPLE_MS = 1000;
const SCRAPE_MS = 2000;
const HISTORY_POINTS = 90;
/** Traffic nobody watches stops after this long, so a closed tab leaves no load behind. */
const UNWATCHED_MS = 15_000;
/** A subscriber this far behind is cut off rather than buffered without bound. */
const MAX_BUFFERED = 1024 * 1024;
/** Open pages at once: each costs a tick's JSON every 500 ms, so more is refused (503, retry later). */
export const MAX_SUBSCRIBERS = 16;
const KIND_ORDER: readonly MeshKind[] = [
  "Deployment",
  "Service",
  "Secret",
  "Gateway",
  "VirtualService",
  "DestinationRule",
];
const SESSIONS_METRIC = /^session_sessions_created_total(?:\{[^}]*\})?\s+([0-9.eE+]+)\s*$/gm;

export class Dashboard {
  readonly traffic: TrafficSimulator;
  readonly #mesh: Mesh;
  readonly #assets = new Assets();
  readonly #subscribers = new Set<ServerResponse>();
  readonly #history: HistoryPoint[] = [];
  readonly #sampler: NodeJS.Timeout;
  #ticker: NodeJS.Timeout | undefined;
  #scraper: NodeJS.Timeout | undefined;
  #unwatched: NodeJS.Timeout | undefined;
  #lastTotals: Map<string, number> | undefined;
  #lastSampleAt = Date.now();
  #rps = new Map<string, number>();
  #newPoint: HistoryPoint | undefined;
  readonly #sessions = new Map<string, { pid: number; value: number }>();
  #manifests: ManifestsEvent | undefined;
  #variants: Promise<VariantView[]> | undefined;
  // Filled before the first manifests event, which every subscriber awaits the variants for.
  #variantJson: { id: string; json: string }[] = [];
  #trafficQueue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(mesh: Mesh) {
    this.#mesh = mesh;
    this.traffic = new TrafficSimulator(() => mesh.gatewayUrl);
    // Sampling is cheap (counters in memory) and keeps a history for a page opened later.
    this.#sampler = setInterval(() => this.#sample(), SAMPLE_MS).unref();
  }

  /** Serves a GET or HEAD the dashboard owns; false when the path is not one of them. */
  async get(path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const head = req.method === "HEAD";
    if (this.#assets.handles(path)) {
      await this.#assets.serve(path, res, head);
      return true;
    }
    if (path === "/api/v1/events" && !head) {
      await this.#subscribe(req, res);
      return true;
    }
    if (path === "/api/v1/traffic") {
      this.#json(res, this.traffic.view());
      return true;
    }
    if (path === "/api/v1/variants") {
      this.#json(res, await this.variants());
      return true;
    }
    return false;
  }

  /** POST /api/v1/traffic: start, stop, resize or reset the simulated clients. */
  setTraffic(body: Record<string, unknown>): Promise<TrafficView> {
    const settings: { -readonly [K in keyof TrafficSettings]: TrafficSettings[K] } = {};
    for (const [key, type] of [
      ["running", "boolean"],
      ["clients", "number"],
      ["intervalMs", "number"],
      ["reset", "boolean"],
    ] as const) {
      const value = body[key];
      if (value === undefined) continue;
      if (typeof value !== type) {
        throw new SessionAffinityError("ERR_USAGE", `traffic: "${key}" must be a ${type}`);
      }
      (settings as Record<string, unknown>)[key] = value;
    }
    if (settings.running && this.#closed) {
      throw new SessionAffinityError("ERR_RUNTIME", "traffic: the mesh is stopping");
    }
    const next = this.#trafficQueue.then(() => this.traffic.configure(settings));
    this.#trafficQueue = next.catch(() => {});
    return next;
  }

  variants(): Promise<VariantView[]> {
    this.#variants ??= loadVariants().then(
      (variants) => {
        this.#variantJson = variants.map((v) => ({ id: v.id, json: canonicalJson(parse(v.text)) }));
        return variants;
      },
      (err: unknown) => {
        this.#variants = undefined;
        throw err;
      },
    );
    return this.#variants;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sampler);
    this.#stopTicking();
    clearTimeout(this.#unwatched);
    for (const res of this.#subscribers) res.end();
    this.#subscribers.clear();
    await this.#trafficQueue;
    await this.traffic.stop();
  }

  #json(res: ServerResponse, body: unknown): void {
    const text = `${JSON.stringify(body, null, 2)}\n`;
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  async #subscribe(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#subscribers.size >= MAX_SUBSCRIBERS) {
      const text = `${JSON.stringify({ error: { code: "ERR_RUNTIME", message: `dashboard: ${MAX_SUBSCRIBERS} pages are open already` } })}\n`;
      res.writeHead(503, {
        "content-type": "application/json",
        "retry-after": "5",
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
      return;
    }
    const hello: HelloEvent = {
      admin: this.#mesh.adminUrl,
      gateway: this.#mesh.gatewayUrl,
      variants: await this.variants(),
      history: this.#history,
    };
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    res.write("retry: 2000\n\n");
    this.#send(res, "hello", hello);
    this.#send(res, "manifests", this.#manifestsEvent());
    this.#send(res, "tick", this.#tickEvent([]));
    this.#subscribers.add(res);
    clearTimeout(this.#unwatched);
    this.#unwatched = undefined;
    if (this.#subscribers.size === 1) this.#startTicking();
    req.once("close", () => {
      this.#subscribers.delete(res);
      if (this.#subscribers.size > 0) return;
      this.#stopTicking();
      if (this.traffic.running && !this.#closed) {
        this.#unwatched = setTimeout(() => {
          void this.setTraffic({ running: false }).catch(() => {});
        }, UNWATCHED_MS).unref();
      }
    });
  }

  #send(res: ServerResponse, event: string, data: unknown): void {
    if (res.writableLength > MAX_BUFFERED) {
      this.#subscribers.delete(res);
      res.destroy();
      return;
    }
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #broadcast(event: string, data: unknown): void {
    for (const res of this.#subscribers) this.#send(res, event, data);
  }

  #startTicking(): void {
    this.#ticker = setInterval(() => this.#tick(), TICK_MS).unref();
    this.#scraper = setInterval(() => void this.#scrape(), SCRAPE_MS).unref();
    void this.#scrape();
  }

  #stopTicking(): void {
    clearInterval(this.#ticker);
    clearInterval(this.#scraper);
    this.#ticker = undefined;
    this.#scraper = undefined;
  }

  #tick(): void {
    if (this.#mesh.controlPlane.revision !== this.#manifests?.revision) {
      this.#broadcast("manifests", this.#manifestsEvent());
    }
    this.#broadcast("tick", this.#tickEvent(this.traffic.drain()));
  }

  #tickEvent(requests: TickEvent["requests"]): TickEvent {
    const mesh = this.#mesh;
    const views = mesh.views();
    const pods: PodCard[] = views.pods.map((p) => {
      const sessions = this.#sessions.get(p.name);
      return {
        name: p.name,
        namespace: p.namespace,
        deployment: p.deployment,
        status: p.status,
        ready: p.ready,
        terminating: p.status === "Terminating",
        restarts: p.restarts,
        rps: this.#rps.get(p.name) ?? 0,
        ...(sessions && sessions.pid === p.pid ? { sessions: sessions.value } : {}),
      };
    });
    const d = views.deployments[0];
    const point = this.#newPoint;
    this.#newPoint = undefined;
    return {
      now: Date.now(),
      store: mesh.store,
      pods,
      ...(d
        ? { deployment: { name: d.name, namespace: d.namespace, replicas: d.replicas, ready: d.ready } }
        : {}),
      policy: routingPolicy(mesh.xds, SERVICE),
      traffic: this.traffic.view(),
      requests,
      ...(point ? { point } : {}),
    };
  }

  /** Requests per pod over the last second, from the gateway's per-endpoint rq_total. */
  #sample(): void {
    const now = Date.now();
    const totals = new Map<string, number>();
    for (const cluster of this.#mesh.clusters.values()) {
      if (cluster.config.service?.name !== SERVICE) continue;
      for (const h of cluster.hosts()) {
        const pod = this.#mesh.podAt(h.address);
        if (pod !== undefined) totals.set(pod, (totals.get(pod) ?? 0) + h.stats.rqTotal);
      }
    }
    const seconds = Math.max(0.001, (now - this.#lastSampleAt) / 1000);
    const rps = new Map<string, number>();
    if (this.#lastTotals) {
      // A pod missing from the last sample is new (or back) and its counters start from zero.
      for (const [pod, total] of totals) {
        rps.set(pod, Math.max(0, total - (this.#lastTotals.get(pod) ?? 0)) / seconds);
      }
      const sticky = this.traffic.stickyShare();
      const point: HistoryPoint = {
        t: now,
        rps: Object.fromEntries([...rps].map(([k, v]) => [k, Math.round(v * 10) / 10])),
        ...(sticky === undefined || !this.traffic.running ? {} : { sticky }),
      };
      this.#history.push(point);
      if (this.#history.length > HISTORY_POINTS) this.#history.shift();
      this.#newPoint = point;
    }
    this.#rps = rps;
    this.#lastTotals = totals;
    this.#lastSampleAt = now;
  }

  /** session_sessions_created_total of every running container, read from its own /metrics. */
  async #scrape(): Promise<void> {
    const pods = this.#mesh.replicaSets.pods();
    const alive = new Set(pods.map((p) => p.name));
    for (const name of this.#sessions.keys()) if (!alive.has(name)) this.#sessions.delete(name);
    await Promise.all(
      pods.map(async (pod) => {
        const { port, pid } = pod;
        if (port === undefined || pid === undefined) return;
        try {
          const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
            signal: AbortSignal.timeout(1000),
          });
          const text = await response.text();
          if (!response.ok) return;
          let value = 0;
          for (const m of text.matchAll(SESSIONS_METRIC)) value += Number(m[1]);
          this.#sessions.set(pod.name, { pid, value });
        } catch {
          // A pod going away or not listening yet: keep its last value until the next scrape.
        }
      }),
    );
  }

  #manifestsEvent(): ManifestsEvent {
    const cp = this.#mesh.controlPlane;
    if (this.#manifests?.revision === cp.revision) return this.#manifests;
    const docs: string[] = [];
    let rule: string | undefined;
    for (const kind of KIND_ORDER) {
      for (const applied of cp.list(kind)) {
        const object = structuredClone(applied.doc.object) as Record<string, unknown>;
        const live = applied.object;
        if (live.kind === "Deployment") {
          // scale and rollout restart change the live object, not the applied document.
          const spec = (object.spec ?? {}) as Record<string, unknown>;
          object.spec = { ...spec, replicas: live.replicas, template: live.template };
        }
        if (live.kind === "Secret") {
          for (const field of ["data", "stringData"]) {
            const values = object[field];
            if (values && typeof values === "object") {
              object[field] = Object.fromEntries(Object.keys(values).map((k) => [k, "(hidden)"]));
            }
          }
        }
        if (live.kind === "DestinationRule" && live.host.split(".")[0] === SERVICE) {
          rule = canonicalJson(applied.doc.object);
        }
        docs.push(stringify(object, { lineWidth: 0 }));
      }
    }
    const variant = rule === undefined ? undefined : this.#variantJson.find((v) => v.json === rule)?.id;
    this.#manifests = {
      revision: cp.revision,
      yaml: docs.join("---\n"),
      ...(variant ? { variant } : {}),
    };
    return this.#manifests;
  }
}
