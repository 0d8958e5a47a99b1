/**
 * Simulated users for the dashboard, run in the mesh process: each has its own keep-alive
 * connection and cookie jar (the checker's SimulatedClient and CookieJar) and sends GET /user through
 * the real gateway every interval, one request at a time. A page in a browser could not do this: it
 * cannot keep one cookie jar per user for the gateway's origin.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CookieJar } from "../check/cookie-jar.js";
import { SimulatedClient } from "../check/http-client.js";
import { SessionAffinityError } from "../errors.js";
import {
  type ClientView,
  MAX_CLIENTS,
  type RequestLine,
  type TrafficSettings,
  type TrafficView,
} from "./protocol.js";

/** Distinct on white and told apart by name too (every client is labelled). */
export const CLIENT_COLORS = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#e377c2",
  "#8c564b",
  "#ff7f0e",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
  "#393b79",
  "#637939",
] as const;

/** The header each client sends with its name, so the header-hash rule has a key to hash. */
export const USER_HEADER = "x-session-user";
/** A client is sticky when this many answers in a row came from one pod. */
export const STICKY_WINDOW = 6;
const MAX_LINES = 2000;

class Client {
  readonly id: number;
  readonly name: string;
  readonly color: string;
  readonly #http: SimulatedClient;
  readonly #recent: string[] = [];
  #pod: string | undefined;
  #count: number | undefined;
  #ok = 0;
  #errors = 0;
  #lastError: string | undefined;

  constructor(id: number) {
    this.id = id;
    this.name = `user-${id}`;
    this.color = CLIENT_COLORS[(id - 1) % CLIENT_COLORS.length] as string;
    this.#http = new SimulatedClient(new CookieJar("browser"), {
      timeoutMs: 2000,
      insecure: false,
      headers: { [USER_HEADER]: this.name },
    });
  }

  async send(url: string): Promise<RequestLine> {
    const outcome = await this.#http.get(url);
    if (!outcome.ok) {
      this.#errors++;
      this.#lastError = outcome.detail;
      return { client: this.id, ok: false };
    }
    this.#ok++;
    this.#pod = outcome.hostname;
    this.#count = outcome.count;
    this.#recent.push(outcome.hostname);
    if (this.#recent.length > STICKY_WINDOW) this.#recent.shift();
    return { client: this.id, pod: outcome.hostname, ok: true };
  }

  get judged(): boolean {
    return this.#recent.length >= STICKY_WINDOW;
  }

  get sticky(): boolean {
    return this.judged && this.#recent.every((p) => p === this.#recent[0]);
  }

  view(): ClientView {
    return {
      id: this.id,
      name: this.name,
      color: this.color,
      ...(this.#pod === undefined ? {} : { pod: this.#pod }),
      ...(this.#count === undefined ? {} : { count: this.#count }),
      sticky: this.sticky,
      ok: this.#ok,
      errors: this.#errors,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}

export class TrafficSimulator {
  readonly #url: () => string;
  #clients: Client[] = [];
  #wanted = 6;
  #intervalMs = 250;
  #running = false;
  #nextId = 1;
  #lines: RequestLine[] = [];
  // One per client loop; aborting it ends the loop's sleep at once.
  readonly #loops = new Map<Client, { stop: AbortController; done: Promise<void> }>();

  constructor(gatewayUrl: () => string) {
    this.#url = gatewayUrl;
  }

  get running(): boolean {
    return this.#running;
  }

  async configure(settings: TrafficSettings): Promise<TrafficView> {
    if (settings.clients !== undefined) {
      if (!Number.isInteger(settings.clients) || settings.clients < 1 || settings.clients > MAX_CLIENTS) {
        throw new SessionAffinityError(
          "ERR_USAGE",
          `traffic: clients must be an integer from 1 to ${MAX_CLIENTS}`,
        );
      }
      this.#wanted = settings.clients;
    }
    if (settings.intervalMs !== undefined) {
      if (
        !Number.isInteger(settings.intervalMs) ||
        settings.intervalMs < 50 ||
        settings.intervalMs > 10_000
      ) {
        throw new SessionAffinityError(
          "ERR_USAGE",
          "traffic: intervalMs must be an integer from 50 to 10000",
        );
      }
      this.#intervalMs = settings.intervalMs;
    }
    if (settings.reset) {
      await this.#remove(this.#clients);
      this.#nextId = 1;
    }
    if (settings.running !== undefined) this.#running = settings.running;
    await this.#reconcile();
    return this.view();
  }

  async #reconcile(): Promise<void> {
    const wanted = this.#running || this.#clients.length > 0 ? this.#wanted : 0;
    while (this.#clients.length < wanted) this.#clients.push(new Client(this.#nextId++));
    if (this.#clients.length > wanted) await this.#remove(this.#clients.slice(wanted));
    for (const client of this.#clients) {
      const loop = this.#loops.get(client);
      if (this.#running && !loop) this.#start(client);
      if (!this.#running && loop) {
        loop.stop.abort();
        await loop.done;
      }
    }
  }

  #start(client: Client): void {
    const stop = new AbortController();
    const done = (async () => {
      // Spread the clients' first requests over one interval instead of sending them together.
      await sleep(Math.random() * this.#intervalMs, undefined, { signal: stop.signal }).catch(() => {});
      while (!stop.signal.aborted) {
        const line = await client.send(`${this.#url()}/user`);
        if (stop.signal.aborted) break;
        this.#lines.push(line);
        if (this.#lines.length > MAX_LINES) this.#lines.splice(0, this.#lines.length - MAX_LINES);
        await sleep(this.#intervalMs, undefined, { signal: stop.signal }).catch(() => {});
      }
    })();
    const entry = { stop, done };
    this.#loops.set(client, entry);
    void done.finally(() => {
      if (this.#loops.get(client) === entry) this.#loops.delete(client);
    });
  }

  async #remove(clients: readonly Client[]): Promise<void> {
    const gone = new Set(clients);
    this.#clients = this.#clients.filter((c) => !gone.has(c));
    await Promise.all(
      clients.map(async (c) => {
        const loop = this.#loops.get(c);
        loop?.stop.abort();
        await loop?.done;
        await c.close();
      }),
    );
  }

  /** The requests answered since the previous call. */
  drain(): RequestLine[] {
    const lines = this.#lines;
    this.#lines = [];
    return lines;
  }

  stickyShare(): number | undefined {
    const judged = this.#clients.filter((c) => c.judged);
    if (judged.length === 0) return undefined;
    return judged.filter((c) => c.sticky).length / judged.length;
  }

  view(): TrafficView {
    const share = this.stickyShare();
    return {
      running: this.#running,
      intervalMs: this.#intervalMs,
      userHeader: USER_HEADER,
      clients: this.#clients.map((c) => c.view()),
      ...(share === undefined ? {} : { stickyShare: share }),
    };
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#remove(this.#clients);
  }
}
