import type { IncomingMessage, ServerResponse } from "node:http";
import { SessionAffinityError } from "../errors.js";
import { readCookie } from "./cookie-header.js";
import type { Logger } from "./logger.js";
import type { Metrics, Route } from "./metrics.js";
import { ordinal } from "./ordinal.js";
import type { SessionIdSigner } from "./session-id.js";
import type { SessionHit, SessionStore } from "./session-store.js";

export interface AppOptions {
  store: SessionStore;
  signer: SessionIdSigner;
  metrics: Metrics;
  log: Logger;
  /** Shown as `Hostname:`; the pod name in Kubernetes and in the local mesh. */
  hostname: string;
  cookieName: string;
  cookieSecure: boolean;
}

export interface App {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** /readyz turns 503 so the endpoint is removed; requests are still served. Nothing else fails it. */
  startDraining(): void;
  /** Every later response asks the client to close its connection. */
  startClosing(): void;
  readonly draining: boolean;
}

const READ_ONLY = "GET, HEAD";
const TEXT = "text/plain; charset=utf-8";

/** The service's request handler, apart from listening, so tests and every replica share it. */
export function createApp(options: AppOptions): App {
  const { store, signer, metrics, log, hostname } = options;
  const cookieAttributes = `; Path=/; HttpOnly; SameSite=Lax${options.cookieSecure ? "; Secure" : ""}`;
  const hostnameLine = `Hostname: ${hostname}<br>\n`;
  let draining = false;
  let closing = false;
  let lastStoreWarning = 0;

  // One writeHead with every field: setHeader per field would validate and store each one twice.
  function send(res: ServerResponse, status: number, type: string, body: string, extra?: readonly string[]) {
    const headers = [
      "Content-Type",
      type,
      "Content-Length",
      String(Buffer.byteLength(body)),
      "Cache-Control",
      "no-store",
    ];
    if (closing) headers.push("Connection", "close");
    if (extra) headers.push(...extra);
    res.writeHead(status, headers);
    res.end(res.req.method === "HEAD" ? undefined : body);
  }

  function userBody(accept: string | undefined, count: number): [string, string] {
    if (accept?.includes("application/json")) {
      return ["application/json; charset=utf-8", JSON.stringify({ hostname, count })];
    }
    return ["text/html; charset=utf-8", `${hostnameLine}${ordinal(count)} time access.\n`];
  }

  function user(req: IncomingMessage, res: ServerResponse): number | Promise<number> {
    // Node's server has built req.headers before this runs (it reads Host and Expect), so these are lookups.
    const { cookie, accept } = req.headers;
    const id = signer.verify(readCookie(cookie, options.cookieName));
    if (req.method === "HEAD") {
      // HEAD is safe: it reports what GET would say without counting or creating a session.
      const peeked = id === undefined ? Promise.resolve(undefined) : store.peek(id);
      return peeked.then((count) => {
        const [type, body] = userBody(accept, count ?? 1);
        send(res, 200, type, body);
        return 200;
      });
    }
    let cookieValue = "";
    const mint = () => {
      const minted = signer.mint();
      cookieValue = minted.cookieValue;
      return minted.id;
    };
    const counted = (hit: SessionHit): number => {
      const [type, body] = userBody(accept, hit.count);
      if (hit.created) {
        metrics.sessionCreated();
        send(res, 200, type, body, ["Set-Cookie", `${options.cookieName}=${cookieValue}${cookieAttributes}`]);
      } else {
        send(res, 200, type, body);
      }
      return 200;
    };
    // A store in this process's memory answers at once: no promise, no extra turn of the event loop.
    if (store.hitSync) return counted(store.hitSync(id, mint));
    return store.hit(id, mint).then(counted);
  }

  // Readiness reports this pod only. The store is shared by every replica: were it part of readiness, one
  // Redis outage would take every endpoint out at once, and the proxy's "no healthy upstream" (no
  // Retry-After) would replace each replica's own 503 + Retry-After, recovering only at the next probe.
  function ready(res: ServerResponse): number {
    if (draining) {
      send(res, 503, TEXT, "draining\n");
      return 503;
    }
    send(res, 200, TEXT, "ready\n");
    return 200;
  }

  function route(path: string, req: IncomingMessage, res: ServerResponse): number | Promise<number> {
    const method = req.method ?? "";
    if (method !== "GET" && method !== "HEAD") {
      send(res, 405, TEXT, "method not allowed\n", ["Allow", READ_ONLY]);
      return 405;
    }
    switch (path) {
      case "/user":
        return user(req, res);
      case "/healthz":
        send(res, 200, TEXT, "ok\n");
        return 200;
      case "/readyz":
        return ready(res);
      default:
        return metrics.registry.metrics().then((text) => {
          send(res, 200, metrics.registry.contentType, text);
          return 200;
        });
    }
  }

  function failed(err: unknown, res: ServerResponse): number {
    if (err instanceof SessionAffinityError && err.code === "ERR_STORE_UNAVAILABLE") {
      metrics.storeError();
      const now = Date.now();
      if (now - lastStoreWarning > 1000) {
        lastStoreWarning = now;
        log.warn({ err: err.message }, "session store unavailable");
      }
      if (!res.headersSent) send(res, 503, TEXT, "session store unavailable\n", ["Retry-After", "1"]);
      return 503;
    }
    log.error({ err }, "request failed");
    if (!res.headersSent) send(res, 500, TEXT, "internal error\n");
    return 500;
  }

  return {
    handle(req, res) {
      const started = performance.now();
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q === -1 ? url : url.slice(0, q);
      const known = path === "/user" || path === "/healthz" || path === "/readyz" || path === "/metrics";
      const label: Route = known ? (path as Route) : "other";
      const done = (status: number) => metrics.observe(label, status, (performance.now() - started) / 1000);
      if (!known) {
        send(res, 404, TEXT, "not found\n");
        done(404);
        return;
      }
      let status: number | Promise<number>;
      try {
        status = route(path, req, res);
      } catch (err) {
        done(failed(err, res));
        return;
      }
      if (typeof status === "number") done(status);
      else status.then(done, (err: unknown) => done(failed(err, res)));
    },
    startDraining() {
      draining = true;
    },
    startClosing() {
      closing = true;
    },
    get draining() {
      return draining;
    },
  };
}
