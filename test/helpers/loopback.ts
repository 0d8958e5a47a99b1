/**
 * Loopback servers and bounded waiting for socket-level tests: every server is started on a free
 * loopback port by the test and stopped in `t.after`, and every wait ends with a named failure
 * instead of hanging the suite.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer as createHttpServer, type RequestListener } from "node:http";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import type { TestContext } from "node:test";

export interface TcpServer {
  /** `127.0.0.1:<port>`, as endpoints and pools spell an address. */
  readonly address: string;
  /** Server-side sockets in the order they were accepted. */
  readonly sockets: Socket[];
}

/**
 * A raw node:net server on a free loopback port, for upstreams that must misbehave below HTTP. Each
 * accepted socket is recorded, has its errors swallowed (a reset from the client is not a test
 * failure) and goes to `onSocket`. Stopped in `t.after`, with every accepted socket destroyed first,
 * so no test leaves a listener or a connection behind.
 */
export async function tcpServer(
  t: TestContext,
  onSocket: (socket: Socket) => void = () => {},
): Promise<TcpServer> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    onSocket(socket);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

/** A plain Node HTTP server (keep-alive 60 s) on a free loopback port, stopped in `t.after`; its port. */
export async function nodeHttpServer(t: TestContext, handler: RequestListener): Promise<number> {
  const server = createHttpServer({ keepAliveTimeout: 60_000 }, handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

/**
 * A loopback address nothing listens on, for refused connects: the port is bound by the test, then
 * closed, so it is not one another process was given.
 */
export async function closedPort(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/**
 * A loopback address whose connects get no answer, for connect timeouts: a child process listens
 * with a backlog of 1 and is stopped (SIGSTOP) so it never accepts; once its accept queue is full the
 * kernel drops further SYNs, and a new connect hangs. Everything is killed in `t.after`.
 */
export async function unansweredAddress(t: TestContext): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const s = require("node:net").createServer();
       s.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => console.log(s.address().port));`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const fillers: Socket[] = [];
  t.after(() => {
    for (const socket of fillers) socket.destroy();
    child.kill("SIGKILL");
  });
  const [line] = (await within(
    once(child.stdout as NodeJS.ReadableStream, "data"),
    10_000,
    "the listener's port",
  )) as [Buffer];
  const port = Number(line.toString().trim());
  child.kill("SIGSTOP");
  // Fill the accept queue: these handshakes complete in the kernel; the next ones are dropped.
  for (let i = 0; i < 3; i++) {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    fillers.push(socket);
  }
  await sleep(200);
  return `127.0.0.1:${port}`;
}

/**
 * Resolves (or rejects) as `promise` does; rejects with `timed out after <ms> ms waiting for <what>`
 * once `ms` passes instead, so a lost event fails the test by name rather than hanging it. The timer
 * is cleared either way.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `condition` every 5 ms, for at most `ms` (and at most `ms / 5 + 1` polls), then asserts it:
 * for state that changes without an event to await. Fails with `timed out after <ms> ms waiting for
 * <what>`.
 */
export async function waitFor(condition: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < ms / 5 + 1 && !condition(); i++) {
    if (Date.now() > deadline) break;
    await sleep(5);
  }
  assert.ok(condition(), `timed out after ${ms} ms waiting for ${what}`);
}

/** Resolves after `ms`: for letting time pass where a test checks that nothing happens. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
