/**
 * The admin and control API on 127.0.0.1 (15000 by default), in the spirit of Envoy's admin
 * interface: GET /clusters, /config_dump, /stats/prometheus, /ready, plus the JSON control endpoints
 * the CLI verbs call (/api/v1/...). State-changing requests must be POSTs with
 * `Content-Type: application/json` and no foreign Origin, and every request must name this server
 * in its Host header, so a web page cannot drive the mesh (CSRF, DNS rebinding). The dashboard
 * (src/dashboard) is served from `/` on the same origin, so its page passes these checks and no other
 * page does; its event stream is GET /api/v1/events.
 *
 * Everything under /api/ also needs the mesh's token (admin-token.ts): as a bearer token from the CLI,
 * or as a cookie set when the dashboard is opened with `/?token=…`. Envoy's own read-only endpoints
 * (/clusters, /config_dump, /stats/prometheus, /ready) stay open on loopback, as Envoy's admin is.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readCookie } from "../app/cookie-header.js";
import { Dashboard } from "../dashboard/dashboard.js";
import { envoyAdminReply } from "../envoy/admin/envoy-admin.js";
import { isUserError, SessionAffinityError } from "../errors.js";
import { parseManifests } from "../manifests/index.js";
import {
  ADMIN_TOKEN_COOKIE,
  adminTokenFile,
  newAdminToken,
  removeAdminToken,
  tokenMatches,
  writeAdminToken,
} from "./admin-token.js";
import { RejectedManifestError } from "./control-plane.js";
import type { Mesh } from "./mesh.js";
import { DEFAULT_NAMESPACE } from "./model.js";
import { RESOURCE_NAMES, type ResourceName } from "./views.js";

const MAX_BODY = 4 * 1024 * 1024;
/** Local clients only, a handful at a time (CLI verbs, a dashboard or two): more is a flood. */
const MAX_CONNECTIONS = 128;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: "ERR_USAGE" | "ERR_UNAUTHORIZED" = "ERR_USAGE",
  ) {
    super(message);
  }
}

export class AdminServer {
  readonly #mesh: Mesh;
  readonly #server: Server;
  readonly #requestedPort: number;
  readonly #dashboard: Dashboard;
  /** The control API's bearer token, new for every mesh. */
  readonly token = newAdminToken();
  #port = 0;

  constructor(mesh: Mesh, port: number) {
    this.#mesh = mesh;
    this.#dashboard = new Dashboard(mesh);
    this.#requestedPort = port;
    this.#server = createServer(
      {
        // Slow or idle clients are cut off as the gateway cuts them (slowloris), checked every second.
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        keepAliveTimeout: 5_000,
        connectionsCheckingInterval: 1000,
      },
      (req, res) => {
        this.#handle(req, res).catch((err: unknown) => this.#error(res, err));
      },
    );
    this.#server.maxConnections = MAX_CONNECTIONS;
  }

  /** Where `up` wrote the token (only this user can read it). */
  get tokenFile(): string {
    return adminTokenFile(this.#port);
  }

  /** The dashboard's address with the token, which the page trades for a cookie at once. */
  get dashboardUrl(): string {
    return `${this.url}/?token=${this.token}`;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async listen(): Promise<void> {
    this.#server.listen(this.#requestedPort, "127.0.0.1");
    try {
      await once(this.#server, "listening");
    } catch (err) {
      throw new SessionAffinityError(
        "ERR_RUNTIME",
        `admin API: cannot listen on 127.0.0.1:${this.#requestedPort}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#port = (this.#server.address() as AddressInfo).port;
    try {
      await writeAdminToken(this.#port, this.token);
    } catch (err) {
      this.#server.close();
      throw new SessionAffinityError(
        "ERR_RUNTIME",
        `admin API: cannot write its token to ${this.tokenFile}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    await removeAdminToken(this.#port, this.token).catch(() => {});
    await this.#dashboard.close();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    const text = `${JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  #text(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8"): void {
    res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
    res.end(body);
  }

  #error(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      if (err.status === 401) res.setHeader("www-authenticate", 'Bearer realm="session-affinity"');
      this.#json(res, err.status, { error: { code: err.code, message: err.message } });
      return;
    }
    if (err instanceof SessionAffinityError) {
      const body: Record<string, unknown> = { error: { code: err.code, message: err.message } };
      if (err instanceof RejectedManifestError) body.findings = err.findings;
      const status = err instanceof RejectedManifestError ? 422 : isUserError(err) ? 400 : 500;
      this.#json(res, /not found/.test(err.message) && err.code === "ERR_USAGE" ? 404 : status, body);
      return;
    }
    this.#json(res, 500, { error: { code: "ERR_RUNTIME", message: (err as Error).message ?? String(err) } });
  }

  #checkOrigin(req: IncomingMessage): void {
    const host = req.headers.host ?? "";
    const allowed = [`127.0.0.1:${this.#port}`, `localhost:${this.#port}`, `[::1]:${this.#port}`];
    if (!allowed.includes(host))
      throw new HttpError(403, `admin API: Host ${host || "(none)"} is not this server`);
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.some((a) => origin === `http://${a}`)) {
      throw new HttpError(403, `admin API: cross-origin request from ${origin} refused`);
    }
  }

  #checkToken(req: IncomingMessage): void {
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length).trim() : undefined;
    if (tokenMatches(this.token, bearer ?? readCookie(req.headers.cookie, ADMIN_TOKEN_COOKIE))) return;
    throw new HttpError(
      401,
      `admin API: this request needs the mesh's token (Authorization: Bearer …), which \`up\` wrote to ${this.tokenFile}`,
      "ERR_UNAUTHORIZED",
    );
  }

  /** `/?token=…` from the address `up` printed: the token becomes a cookie and leaves the address bar. */
  #openDashboard(res: ServerResponse, given: string | null): void {
    if (!tokenMatches(this.token, given ?? undefined)) {
      throw new HttpError(401, "admin API: that is not this mesh's token", "ERR_UNAUTHORIZED");
    }
    res.writeHead(303, {
      location: "/",
      "set-cookie": `${ADMIN_TOKEN_COOKIE}=${this.token}; Path=/; HttpOnly; SameSite=Strict`,
      "cache-control": "no-store",
      "content-length": 0,
    });
    res.end();
  }

  async #body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const type = req.headers["content-type"] ?? "";
    if (!type.toLowerCase().startsWith("application/json")) {
      throw new HttpError(415, "admin API: state-changing requests need Content-Type: application/json");
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) throw new HttpError(413, "admin API: request body too large");
      chunks.push(chunk as Buffer);
    }
    try {
      const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      if (value === null || typeof value !== "object" || Array.isArray(value))
        throw new Error("not an object");
      return value as Record<string, unknown>;
    } catch {
      throw new HttpError(400, "admin API: the body is not a JSON object");
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#checkOrigin(req);
    const url = new URL(req.url ?? "/", "http://admin");
    const path = url.pathname;
    const mesh = this.#mesh;
    if (path.startsWith("/api/")) this.#checkToken(req);
    if (req.method === "GET" || req.method === "HEAD") {
      if (path === "/" && url.searchParams.has("token"))
        return this.#openDashboard(res, url.searchParams.get("token"));
      if (await this.#dashboard.get(path, req, res)) return;
      const envoy = envoyAdminReply(path, url.searchParams, mesh.envoyAdmin(this.#port));
      if (envoy) return this.#text(res, envoy.status, envoy.body, envoy.contentType);
      switch (path) {
        case "/ready":
          return this.#text(res, 200, "LIVE\n");
        case "/api/v1":
          return this.#json(res, 200, {
            gateway: mesh.gatewayUrl,
            admin: mesh.adminUrl,
            store: mesh.store,
            pushes: mesh.pushes,
            revision: mesh.controlPlane.revision,
            xds: {
              version: mesh.xds.version,
              istioVersion: mesh.xds.istioVersion,
              ...(mesh.dataPlane.rejected === undefined ? {} : { rejected: mesh.dataPlane.rejected }),
              unimplemented: mesh.dataPlane.unimplemented,
            },
            settled: mesh.settled(),
          });
        case "/api/v1/state":
          return this.#json(res, 200, { now: Date.now(), ...mesh.views() });
      }
      const resource = /^\/api\/v1\/([a-z]+)$/.exec(path)?.[1];
      if (resource && RESOURCE_NAMES.includes(resource as ResourceName)) {
        return this.#json(res, 200, { now: Date.now(), items: mesh.views()[resource as ResourceName] });
      }
      const logs = /^\/api\/v1\/pods\/([^/]+)\/logs$/.exec(path)?.[1];
      if (logs) {
        const pod = mesh.replicaSets.pod(decodeURIComponent(logs));
        if (!pod) throw new HttpError(404, `pods "${decodeURIComponent(logs)}" not found`);
        return this.#text(res, 200, `${pod.logs().join("\n")}\n`);
      }
      throw new HttpError(404, `admin API: no such endpoint ${path}`);
    }
    if (req.method !== "POST") throw new HttpError(405, `admin API: ${req.method} is not allowed`);
    const body = await this.#body(req);
    const str = (key: string, required = true): string => {
      const v = body[key];
      if (v === undefined && !required) return "";
      if (typeof v !== "string" || (required && v === ""))
        throw new HttpError(400, `admin API: "${key}" must be a string`);
      return v;
    };
    const namespace = str("namespace", false) || DEFAULT_NAMESPACE;
    switch (path) {
      case "/api/v1/apply": {
        const result = await mesh.apply(parseManifests(str("text", false), str("file")));
        return this.#json(res, 200, result);
      }
      case "/api/v1/delete": {
        const objects = mesh.delete(parseManifests(str("text", false), str("file")));
        return this.#json(res, 200, { objects });
      }
      case "/api/v1/scale": {
        const replicas = body.replicas;
        if (typeof replicas !== "number") throw new HttpError(400, 'admin API: "replicas" must be a number');
        return this.#json(res, 200, mesh.controlPlane.scale(namespace, str("name"), replicas));
      }
      case "/api/v1/rollout-restart":
        return this.#json(res, 200, mesh.controlPlane.restart(namespace, str("name")));
      case "/api/v1/kill-pod": {
        // A crash from outside (kill -9 on the node): no drain, the endpoint goes when the process does.
        const name = str("name");
        const pod = mesh.replicaSets.pod(name);
        if (!pod || pod.spec.namespace !== namespace) {
          throw new SessionAffinityError("ERR_USAGE", `pods "${name}" not found`);
        }
        if (!pod.signal("SIGKILL"))
          throw new SessionAffinityError("ERR_USAGE", `pods "${name}" has no running container`);
        return this.#json(res, 200, { name, namespace, action: "killed" });
      }
      case "/api/v1/store": {
        const store = str("store");
        if (store !== "memory" && store !== "redis")
          throw new HttpError(400, 'admin API: "store" must be "memory" or "redis"');
        return this.#json(res, 200, await mesh.setStore(store));
      }
      case "/api/v1/traffic":
        return this.#json(res, 200, await this.#dashboard.setTraffic(body));
      case "/api/v1/delete-pod": {
        const name = str("name");
        const pod = mesh.replicaSets.pod(name);
        if (!pod || pod.spec.namespace !== namespace) {
          throw new SessionAffinityError("ERR_USAGE", `pods "${name}" not found`);
        }
        const done = mesh.replicaSets.deletePod(name);
        if (body.wait === true) await done;
        return this.#json(res, 200, { name, namespace, action: "deleted" });
      }
    }
    throw new HttpError(404, `admin API: no such endpoint ${path}`);
  }
}
