import assert from "node:assert/strict";
import { once } from "node:events";
import type { Socket } from "node:net";
import { describe, it, type TestContext } from "node:test";
import { CircuitBreakers, DEFAULT_LIMITS } from "../../../src/envoy/upstream/circuit-breakers.js";
import {
  ConnectionPool,
  type ConnectionUser,
  type PendingUser,
  type UpstreamConnection,
} from "../../../src/envoy/upstream/connection-pool.js";
import {
  closedPort,
  sleep,
  type TcpServer,
  tcpServer,
  unansweredAddress,
  waitFor,
  within,
} from "../../helpers/loopback.js";

function newPool(t: TestContext, options?: ConstructorParameters<typeof ConnectionPool>[0]): ConnectionPool {
  const pool = new ConnectionPool(options);
  t.after(() => pool.close());
  return pool;
}

interface RecordingUser extends ConnectionUser {
  readonly received: Buffer[];
  readonly closes: (NodeJS.ErrnoException | undefined)[];
}

function user(): RecordingUser {
  const received: Buffer[] = [];
  const closes: (NodeJS.ErrnoException | undefined)[] = [];
  return {
    received,
    closes,
    data: (chunk) => received.push(chunk),
    drain: () => {},
    closed: (error) => closes.push(error),
  };
}

async function connected(...connections: UpstreamConnection[]): Promise<void> {
  await within(
    Promise.all(connections.map((c) => (c.connected ? undefined : once(c.socket, "connect")))),
    2000,
    "connect",
  );
}

/** Resolves once the socket's close event has been emitted (and its listeners, the pool's first, ran). */
async function closedSocket(socket: Socket, what: string): Promise<void> {
  // `closed` turns true when the handle's close is requested; the event follows in libuv's close phase,
  // which comes after the check phase: two setImmediate turns are past it.
  if (socket.closed) {
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  } else await within(new Promise((resolve) => socket.once("close", resolve)), 2000, what);
}

interface OneConnection {
  readonly server: TcpServer;
  readonly pool: ConnectionPool;
  /** The user the connection was acquired for. */
  readonly firstUser: RecordingUser;
  readonly connection: UpstreamConnection;
  /** The server's side of the connection. */
  readonly serverSocket: Socket;
}

/** A server and a pool holding one connection to it, acquired for `firstUser`, connected and accepted. */
async function oneConnection(t: TestContext): Promise<OneConnection> {
  const server = await tcpServer(t);
  const pool = newPool(t);
  const firstUser = user();
  const connection = pool.acquire(server.address, firstUser);
  await connected(connection);
  await waitFor(() => server.sockets.length === 1, "the server socket");
  return { server, pool, firstUser, connection, serverSocket: server.sockets[0] as Socket };
}

describe("connection pool", { timeout: 20_000 }, () => {
  it("opens a connection per concurrent user and hands out the most recently released one first", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t);
    const a = pool.acquire(server.address, user());
    const b = pool.acquire(server.address, user());
    assert.notEqual(a, b);
    assert.equal(a.connected, false, "not connected before the handshake");
    await connected(a, b);
    assert.equal(a.connected, true);
    assert.deepEqual([a.uses, b.uses], [0, 0]);
    pool.release(a, undefined);
    pool.release(b, undefined);
    assert.equal(pool.idleCount(server.address), 2);

    const first = pool.acquire(server.address, user());
    assert.equal(first, b, "LIFO: the last released connection comes back first");
    assert.equal(b.uses, 1);
    const second = pool.acquire(server.address, user());
    assert.equal(second, a);
    assert.equal(a.uses, 1);
    assert.equal(pool.idleCount(server.address), 0);
    const third = pool.acquire(server.address, user());
    assert.ok(third !== a && third !== b, "a new connection when none is idle");
    assert.equal(third.uses, 0);
    await connected(third);

    pool.release(b, undefined);
    pool.release(third, undefined);
    pool.release(a, undefined);
    assert.equal(pool.acquire(server.address, user()), a);
    assert.equal(a.uses, 2);
    await waitFor(() => server.sockets.length === 3, "three accepted connections");
    assert.equal(server.sockets.length, 3, "only three TCP connections were ever opened");
  });

  it("forwards data to the connection's current user only", async (t) => {
    const { server, pool, firstUser: first, connection, serverSocket } = await oneConnection(t);
    serverSocket.write("one");
    await waitFor(() => first.received.length > 0, "data for the first user");
    pool.release(connection, undefined);
    const next = user();
    assert.equal(pool.acquire(server.address, next), connection);
    serverSocket.write("two");
    await waitFor(() => next.received.length > 0, "data for the next user");
    assert.equal(Buffer.concat(first.received).toString(), "one");
    assert.equal(Buffer.concat(next.received).toString(), "two");
  });

  it("keeps one pool per address", async (t) => {
    const one = await tcpServer(t);
    const two = await tcpServer(t);
    const pool = newPool(t);
    const a = pool.acquire(one.address, user());
    await connected(a);
    pool.release(a, undefined);
    const b = pool.acquire(two.address, user());
    assert.notEqual(b, a);
    assert.equal(b.address, two.address);
    assert.equal(pool.idleCount(one.address), 1);
    assert.equal(pool.idleCount(two.address), 0);
  });

  it("drops an idle connection from the pool when the server closes it, without telling the last user", async (t) => {
    const { server, pool, firstUser: last, connection, serverSocket } = await oneConnection(t);
    pool.release(connection, undefined);
    assert.equal(pool.idleCount(server.address), 1);
    serverSocket.end();
    await closedSocket(connection.socket, "the client side to close");
    assert.equal(pool.idleCount(server.address), 0);
    assert.deepEqual(last.closes, [], "a released user hears nothing");
    const next = pool.acquire(server.address, user());
    assert.notEqual(next, connection);
    assert.equal(next.uses, 0);
  });

  it("closes an idle connection that receives unsolicited bytes and drops it from the pool", async (t) => {
    const { server, pool, connection, serverSocket } = await oneConnection(t);
    pool.release(connection, undefined);
    serverSocket.write("HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n");
    await closedSocket(connection.socket, "the idle connection to be closed");
    assert.equal(pool.idleCount(server.address), 0);
  });

  it("tells the user once, with the socket error, when its connection is reset", async (t) => {
    const { server, pool, firstUser: u, connection, serverSocket } = await oneConnection(t);
    serverSocket.resetAndDestroy();
    await closedSocket(connection.socket, "the reset to arrive");
    assert.equal(u.closes.length, 1);
    assert.equal(u.closes[0]?.code, "ECONNRESET");
    assert.equal(connection.user, undefined);
    assert.equal(pool.idleCount(server.address), 0);
  });

  it("tells the user once, with no error, when the server ends a connection in use", async (t) => {
    const { firstUser: u, connection, serverSocket } = await oneConnection(t);
    serverSocket.end("last words");
    await closedSocket(connection.socket, "the client side to close");
    assert.equal(Buffer.concat(u.received).toString(), "last words", "data before the end is delivered");
    assert.deepEqual(u.closes, [undefined]);
  });

  it("reports a refused connect to the user, and the connection never counts as connected", async (t) => {
    const address = await closedPort();
    const pool = newPool(t);
    const u = user();
    const connection = pool.acquire(address, u);
    await closedSocket(connection.socket, "the refused connect");
    assert.equal(connection.connected, false);
    assert.equal(u.closes.length, 1);
    assert.equal(u.closes[0]?.code, "ECONNREFUSED");
  });

  it("gives up on a connect that gets no answer after connectTimeoutMs, as a connect failure (ETIMEDOUT)", async (t) => {
    const address = await unansweredAddress(t);
    const pool = newPool(t, { connectTimeoutMs: 300 });
    const u = user();
    const started = performance.now();
    const connection = pool.acquire(address, u);
    await closedSocket(connection.socket, "the connect timeout");
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 280, `gave up after ${elapsed.toFixed(0)} ms`);
    assert.equal(connection.connected, false);
    assert.deepEqual(
      u.closes.map((e) => e?.code),
      ["ETIMEDOUT"],
    );
  });

  it("queues writes made before the handshake completes", async (t) => {
    const received: Buffer[] = [];
    const server = await tcpServer(t, (socket) => socket.on("data", (chunk: Buffer) => received.push(chunk)));
    const pool = newPool(t);
    const connection = pool.acquire(server.address, user());
    connection.socket.write("written before connect");
    await waitFor(() => Buffer.concat(received).length === 22, "the queued bytes");
    assert.equal(Buffer.concat(received).toString(), "written before connect");
  });

  it("never reuses a connection whose upstream advertised a Keep-Alive timeout of a second or less", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t);
    for (const hintMs of [1000, 0]) {
      const connection = pool.acquire(server.address, user());
      await connected(connection);
      pool.release(connection, hintMs);
      const next = pool.acquire(server.address, user());
      assert.notEqual(next, connection, `hint ${hintMs} ms`);
      await closedSocket(connection.socket, "the expired connection to be closed");
      pool.release(next, undefined);
      next.socket.destroy();
      await closedSocket(next.socket, "cleanup");
    }
  });

  it("reuses a connection within its Keep-Alive hint minus a second, capped by idleTimeoutMs", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t, { idleTimeoutMs: 3000 });
    const connection = pool.acquire(server.address, user());
    await connected(connection);
    pool.release(connection, 2500);
    assert.equal(connection.idleLimitMs, 1500);
    assert.equal(pool.acquire(server.address, user()), connection);
    pool.release(connection, 60_000);
    assert.equal(connection.idleLimitMs, 3000, "never longer than the pool's own idle timeout");
    assert.equal(pool.acquire(server.address, user()), connection);
  });

  it("does not reuse a connection idle for longer than idleTimeoutMs, and closes it", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t, { idleTimeoutMs: 30 });
    const connection = pool.acquire(server.address, user());
    await connected(connection);
    pool.release(connection, undefined);
    await sleep(80);
    const next = pool.acquire(server.address, user());
    assert.notEqual(next, connection);
    await closedSocket(connection.socket, "the stale connection to be closed");
  });

  it("skips an idle connection whose socket was destroyed before its close event", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t);
    const connection = pool.acquire(server.address, user());
    await connected(connection);
    pool.release(connection, undefined);
    connection.socket.destroy();
    assert.notEqual(pool.acquire(server.address, user()), connection);
  });

  it("does not pool a connection released after its socket was destroyed", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t);
    const connection = pool.acquire(server.address, user());
    await connected(connection);
    connection.socket.destroy();
    pool.release(connection, undefined);
    assert.equal(pool.idleCount(server.address), 0);
    assert.equal(connection.user, undefined);
  });

  it("sweeps idle connections past their limit every five seconds", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const server = await tcpServer(t);
    const pool = newPool(t);
    const expired = pool.acquire(server.address, user());
    const fresh = pool.acquire(server.address, user());
    await connected(expired, fresh);
    pool.release(expired, 1000); // limit 0 ms: expired as soon as it is idle
    pool.release(fresh, undefined);
    t.mock.timers.tick(5000);
    await closedSocket(expired.socket, "the sweep to close the expired connection");
    assert.equal(fresh.socket.destroyed, false);
    assert.equal(pool.idleCount(server.address), 1);
  });

  it("close() closes every connection, idle or in use, and empties the pool", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t);
    const busyUser = user();
    const busy = pool.acquire(server.address, busyUser);
    const idle = pool.acquire(server.address, user());
    await connected(busy, idle);
    pool.release(idle, undefined);
    pool.close();
    assert.equal(pool.idleCount(server.address), 0);
    await closedSocket(busy.socket, "the busy connection to close");
    await closedSocket(idle.socket, "the idle connection to close");
    assert.equal(busyUser.closes.length, 1, "the user of a busy connection hears of the close");
    await waitFor(
      () => server.sockets.every((s) => s.readableEnded || s.destroyed),
      "the server to see both connections end",
    );
  });
});

/** A request's side of the pool: what it was given, and how it ended if it did. */
function pendingUser() {
  const events: string[] = [];
  let connection: UpstreamConnection | undefined;
  const self: PendingUser & { events: string[]; readonly connection: UpstreamConnection | undefined } = {
    events,
    get connection() {
      return connection;
    },
    data: () => {},
    drain: () => {},
    closed: () => events.push("closed"),
    attached: (c) => {
      connection = c;
      events.push("attached");
    },
    overflowed: () => events.push("overflow"),
    connectFailed: (error) => events.push(`connect-failure ${error?.code ?? ""}`),
  };
  return self;
}

describe("connection pool: waiting requests and circuit breakers", { timeout: 20_000 }, () => {
  it("gives a waiting request a connection of its own while an upgrade's connection is still opening", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t);
    pool.acquire(server.address, user());
    const waiting = pendingUser();
    pool.request(server.address, waiting);
    await waitFor(() => waiting.events.includes("attached"), "the request's connection");
    await waitFor(() => server.sockets.length === 2, "two connections");
  });

  it("waits for the host's next free connection at max_connections, first come first served", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t);
    const breakers = new CircuitBreakers({ ...DEFAULT_LIMITS, maxConnections: 1 });
    const settings = { cluster: "c", breakers };
    const [a, b, c] = [pendingUser(), pendingUser(), pendingUser()];
    pool.request(server.address, a, settings);
    pool.request(server.address, b, settings);
    pool.request(server.address, c, settings);
    await waitFor(() => a.events.includes("attached"), "the first request's connection");
    assert.deepEqual([b.events, c.events], [[], []]);
    assert.deepEqual([breakers.connections, breakers.pendingRequests, breakers.requests], [1, 2, 1]);
    pool.release(a.connection as UpstreamConnection, undefined);
    assert.equal(b.connection, a.connection, "the freed connection goes to the longest waiting");
    pool.cancel(server.address, c, settings);
    pool.release(b.connection as UpstreamConnection, undefined);
    assert.deepEqual(c.events, [], "a cancelled request is given nothing");
    assert.deepEqual([breakers.connections, breakers.pendingRequests, breakers.requests], [1, 0, 0]);
    assert.equal(pool.idleCount(server.address, "c"), 1);
    assert.equal(server.sockets.length, 1);
  });

  it("fails every request waiting for a host when a connect to it fails", async (t) => {
    const address = await closedPort();
    const pool = newPool(t);
    const breakers = new CircuitBreakers({ ...DEFAULT_LIMITS, maxConnections: 1 });
    const waiting = [pendingUser(), pendingUser(), pendingUser()];
    for (const w of waiting) pool.request(address, w, { cluster: "c", breakers });
    await waitFor(() => waiting.every((w) => w.events.length > 0), "every request to hear");
    for (const w of waiting) assert.deepEqual(w.events, ["connect-failure ECONNREFUSED"]);
    assert.deepEqual([breakers.connections, breakers.pendingRequests, breakers.requests], [0, 0, 0]);
  });

  it("gives each count back to the circuit breakers it was taken from, across a cluster applied again", async (t) => {
    const server = await tcpServer(t);
    const pool = newPool(t);
    const before = new CircuitBreakers();
    const after = new CircuitBreakers();
    const first = pendingUser();
    pool.request(server.address, first, { cluster: "c", breakers: before });
    await waitFor(() => first.events.includes("attached"), "the connection");
    pool.release(first.connection as UpstreamConnection, undefined);
    const second = pendingUser();
    pool.request(server.address, second, { cluster: "c", breakers: after });
    assert.equal(second.connection, first.connection, "the idle connection is reused");
    assert.deepEqual([before.requests, after.requests], [0, 1]);
    pool.release(second.connection as UpstreamConnection, undefined);
    assert.deepEqual(
      [before.requests, after.requests, before.pendingRequests, after.pendingRequests],
      [0, 0, 0, 0],
    );
  });
});
