import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { hostname as osHostname } from "node:os";
import { SessionAffinityError } from "../errors.js";
import { type App, createApp } from "./app.js";
import { type Config, redactedConfig } from "./config.js";
import { createStore } from "./create-store.js";
import { createLogger, type Logger } from "./logger.js";
import { Metrics } from "./metrics.js";
import { randomSecret, SessionIdSigner } from "./session-id.js";
import type { SessionStore } from "./session-store.js";

export interface RunningService {
  readonly port: number;
  readonly url: string;
  readonly app: App;
  readonly store: SessionStore;
  readonly server: Server;
  readonly log: Logger;
  /**
   * Kubernetes-style graceful stop: not ready at once, keep serving for SHUTDOWN_DELAY_MS (so the
   * endpoint is removed first), then stop accepting, let in-flight requests finish, close idle
   * keep-alive connections, and give up on stragglers after SHUTDOWN_TIMEOUT_MS.
   */
  shutdown(): Promise<void>;
}

export interface ServiceOverrides {
  store?: SessionStore;
  log?: Logger;
}

/** Builds the store, metrics and handler from a validated config and listens. */
export async function startService(
  config: Config,
  overrides: ServiceOverrides = {},
): Promise<RunningService> {
  const hostname = config.POD_NAME || osHostname();
  const log = overrides.log ?? createLogger(config.LOG_LEVEL, hostname);
  const store = overrides.store ?? (await createStore(config));
  let secret: string | Buffer = config.SESSION_SECRET;
  if (secret === "") {
    secret = randomSecret();
    log.warn(
      "SESSION_SECRET is not set: using a random per-process secret, so sessions end when this process does",
    );
  }
  const metrics = new Metrics(store);
  const app = createApp({
    store,
    signer: new SessionIdSigner(secret),
    metrics,
    log,
    hostname,
    cookieName: config.COOKIE_NAME,
    cookieSecure: config.COOKIE_SECURE,
  });

  const server = createServer(
    {
      // Longer than any proxy's idle timeout in front of us, so the proxy closes first and never
      // sends a request onto a connection we are closing.
      keepAliveTimeout: 65_000,
      // Slow clients (slowloris) are cut off after these; the check runs every second, not Node's 30 s.
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      connectionsCheckingInterval: 1000,
    },
    app.handle,
  );
  // Node hands CONNECT to a 'connect' listener and, without one, closes the connection unanswered.
  server.on("connect", (_req, socket: Socket) => {
    socket.on("error", () => {});
    socket.end(
      "HTTP/1.1 405 Method Not Allowed\r\nallow: GET, HEAD\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    );
  });
  server.listen(config.PORT, config.HOST);
  try {
    await once(server, "listening");
  } catch (err) {
    await store.close();
    throw new SessionAffinityError(
      "ERR_RUNTIME",
      `cannot listen on ${config.HOST}:${config.PORT}: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
  const port = (server.address() as AddressInfo).port;
  log.info({ config: redactedConfig(config), port, store: store.kind }, "session service listening");

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      app.startDraining();
      log.info({ delayMs: config.SHUTDOWN_DELAY_MS }, "draining: readiness now fails");
      if (config.SHUTDOWN_DELAY_MS > 0) await new Promise((r) => setTimeout(r, config.SHUTDOWN_DELAY_MS));
      app.startClosing();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), config.SHUTDOWN_TIMEOUT_MS);
      });
      if (await Promise.race([closed.then(() => false), timedOut])) {
        log.warn("shutdown timeout: closing remaining connections");
        server.closeAllConnections();
        await closed;
      }
      clearTimeout(timer);
      await store.close();
      log.info("stopped");
    })();
    return stopping;
  };

  return { port, url: `http://127.0.0.1:${port}`, app, store, server, log, shutdown };
}

/**
 * Wires SIGTERM/SIGINT to a graceful shutdown and resolves when it is over. With `exitWithParent`, a
 * parent that died without signalling (SIGKILL) is noticed by the re-parenting of this process.
 */
export function untilSignalled(service: RunningService, exitWithParent = false): Promise<void> {
  return new Promise((resolve) => {
    const stop = (reason: string) => {
      service.log.info({ reason }, "stopping");
      clearInterval(orphanCheck);
      service.shutdown().then(resolve, resolve);
    };
    const parent = process.ppid;
    const orphanCheck = setInterval(() => {
      if (exitWithParent && process.ppid !== parent) stop("parent process exited");
    }, 1000);
    if (!exitWithParent) clearInterval(orphanCheck);
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
