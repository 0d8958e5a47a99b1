/**
 * Mesh benchmark: the local mesh's ingress gateway (cookie hashing, 5 replicas) against nginx, HAProxy
 * and an npm `http-proxy` peer doing the same cookie hashing, all in front of the same five replica
 * processes, plus one replica hit directly; then how long `up` takes until the first request through
 * the gateway succeeds. All targets run at once and the load moves between them in short slices, round
 * after round in a rotated order, so the machine's changing speed falls on every target alike.
 * Writes the `mesh` section of BENCHMARKS.md.
 * Run: node --import tsx bench/mesh.ts   (needs nginx, haproxy and wrk: apt-get install -y nginx haproxy wrk)
 * Knobs (env): BENCH_ROUNDS (12), BENCH_SLICE seconds per target and round (3), BENCH_WARMUP seconds (2),
 * BENCH_CONNECTIONS (50), BENCH_UP_RUNS (3), BENCH_FIXED_RATE req/s (default: a quarter of the slowest
 * proxy's closed-loop req/s in the same mode), BENCH_FIXED_DURATION s per target (5, in BENCH_FIXED_ROUNDS slices: 5),
 * BENCH_ONLY (comma-separated target keys, e.g. `gateway,http-proxy`: those only, printed, BENCHMARKS.md untouched).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ControlClient } from "../src/mesh/control-client.js";
import { freePort } from "../test/helpers/ports.js";
import { waitForPort } from "../test/helpers/redis-server.js";
import { findBinary } from "./find-binary.js";
import { haproxyConfig } from "./peers/haproxy.js";
import { nginxConfig } from "./peers/nginx.js";
import { machineLine, writeSection } from "./report.js";
import { addLatency, percentileMs, wrk } from "./wrk.js";

const ROOT = join(import.meta.dirname, "..");
const PEERS_OUT = join(ROOT, ".tmp", "bench-mesh-peers");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const SLICE = Number(process.env.BENCH_SLICE ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const UP_RUNS = Number(process.env.BENCH_UP_RUNS ?? 3);
const FIXED_RATE =
  process.env.BENCH_FIXED_RATE === undefined ? undefined : Number(process.env.BENCH_FIXED_RATE);
/** The fixed-rate load as a share of the slowest proxy's closed-loop throughput: far from saturating any. */
const FIXED_SHARE = 0.25;
const FIXED_DURATION = Number(process.env.BENCH_FIXED_DURATION ?? 5);
const FIXED_ROUNDS = Number(process.env.BENCH_FIXED_ROUNDS ?? 5);
const ONLY = process.env.BENCH_ONLY?.split(",").map((key) => key.trim());
const REPLICAS = 5;
const DEPLOYMENT = "session-deployment";
const STICKY_CLIENTS = 20;
const STICKY_REQUESTS = 5;

type Mode = "same-session" | "new-client";
const MODES: Mode[] = ["same-session", "new-client"];

interface Measured {
  rps: number;
  /** From every response's own time, in wrk's microsecond histogram. */
  p50: number;
  p99: number;
  /** user + system CPU of the proxy's processes over the measured run, per request answered. */
  proxyCpuUs: number;
  replicasCpuUs: number;
  /** The same of wrk, the load generator. */
  loadCpuUs: number;
  /** The same connections at a fixed offered load that saturates nothing: the latency a hop adds. */
  fixedP50: number;
  fixedP99: number;
}

/** A proxy (or none) in front of the replicas, started once and stopped at the end. */
interface Running {
  url: string;
  pids(): number[];
  stop(): Promise<void>;
}
interface Target {
  key: string;
  label: string;
  /** Whether requests go through a cookie-hashing proxy (the stickiness check applies). */
  hashing: boolean;
  start(replicas: readonly Replica[]): Promise<Running>;
}
interface Replica {
  name: string;
  address: string;
  pid: number;
}

const children = new Set<ChildProcess>();

/** Pids of every process below `pid` (nginx workers, the mesh's pods), from /proc. */
function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = byParent.get(ppid) ?? [];
      list.push(Number(entry));
      byParent.set(ppid, list);
    } catch {
      // The process ended while /proc was being read.
    }
  }
  const out: number[] = [];
  const queue = [pid];
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    for (const child of byParent.get(queue[i] as number) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function killAll(): void {
  for (const child of children) {
    if (child.pid === undefined) continue;
    for (const pid of descendants(child.pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    child.kill("SIGKILL");
  }
}
process.once("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Compiled JS for the gateway and the Node peers, so none pays for tsx's loader hooks. */
function build(): void {
  execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  // Inside the repo (under the ignored .tmp/) so the compiled peer resolves ROOT/node_modules.
  execFileSync(
    process.execPath,
    [
      tsc,
      ...["--outDir", PEERS_OUT, "--rootDir", join(ROOT, "bench", "peers")],
      ...["--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022"],
      ...["--strict", "--skipLibCheck", "--types", "node", "--esModuleInterop"],
      join(ROOT, "bench", "peers", "http-proxy-hash.ts"),
      join(ROOT, "bench", "peers", "bare-proxy.ts"),
    ],
    { cwd: ROOT, stdio: "inherit" },
  );
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // An exited process contributes nothing.
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

function spawnChild(file: string, args: string[], label: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(file, args, {
    cwd: ROOT,
    env: env ?? process.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.add(child);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  child.once("exit", (code, signal) => {
    if (children.has(child)) console.error(`${label} exited (${code ?? signal}): ${stderr}`);
  });
  return child;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const orphans = child.pid === undefined ? [] : descendants(child.pid);
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
  for (const pid of orphans) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Stopped with its parent, as it should.
    }
  }
}

interface Answer {
  status: number;
  body: string;
  setCookies: string[];
  hostname?: string;
  count?: number;
}

function get(url: string, agent: Agent | false, cookie?: string, timeoutMs = 5000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: cookie ? { cookie } : {}, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => {
        const hostname = /Hostname: ([^<\s]+)/.exec(body)?.[1];
        const count = /^(\d+)(?:st|nd|rd|th) time access/m.exec(body)?.[1];
        resolve({
          status: res.statusCode ?? 0,
          body,
          setCookies: ([] as string[]).concat(res.headers["set-cookie"] ?? []),
          ...(hostname === undefined ? {} : { hostname }),
          ...(count === undefined ? {} : { count: Number(count) }),
        });
      });
    });
    req.once("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.once("error", reject);
    req.end();
  });
}

/** A browser-like client: its own keep-alive connection and a cookie jar. */
class Client {
  readonly jar = new Map<string, string>();
  #agent = new Agent({ keepAlive: true, maxSockets: 1 });

  cookie(): string | undefined {
    return this.jar.size === 0 ? undefined : [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async get(url: string): Promise<Answer> {
    const answer = await get(url, this.#agent, this.cookie());
    for (const line of answer.setCookies) {
      const pair = line.split(";")[0] ?? "";
      const eq = pair.indexOf("=");
      if (eq > 0) this.jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return answer;
  }

  /** Same cookies from a new connection: pins by cookie, not by connection, must survive it. */
  reconnect(): void {
    this.#agent.destroy();
    this.#agent = new Agent({ keepAlive: true, maxSockets: 1 });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Every client must stay on the replica its first answer came from, with the counter going up by
 * one, also from a new connection; and the clients together must reach more than one replica.
 */
async function verifySticky(url: string, label: string): Promise<Map<string, number>> {
  const spread = new Map<string, number>();
  for (let c = 0; c < STICKY_CLIENTS; c++) {
    const client = new Client();
    try {
      let pod: string | undefined;
      for (let i = 1; i <= STICKY_REQUESTS + 1; i++) {
        if (i === STICKY_REQUESTS + 1) client.reconnect();
        const a = await client.get(url);
        pod ??= a.hostname;
        if (a.status !== 200 || a.hostname !== pod || a.count !== i) {
          throw new Error(
            `${label}: client ${c} request ${i} got ${a.status} from ${a.hostname} (count ${a.count}), expected ${pod} count ${i}`,
          );
        }
        if (i === 1 && !client.jar.has("session-route")) {
          throw new Error(`${label}: the first answer set no session-route cookie`);
        }
      }
      spread.set(pod as string, (spread.get(pod as string) ?? 0) + 1);
    } finally {
      client.close();
    }
  }
  if (spread.size < 2) throw new Error(`${label}: ${STICKY_CLIENTS} clients all landed on one replica`);
  return spread;
}

/**
 * One session per load connection, each created through the target itself; with `balanced`, the same
 * number on every replica. Where a session lands follows from the proxy's cookie, which comes from the
 * connection's port: left to chance, one target's load could sit on two replicas and another's on five.
 */
async function sessions(url: string, label: string, balanced: boolean): Promise<string[]> {
  const cookies: string[] = [];
  const perReplica = new Map<string, number>();
  const quota = Math.ceil(CONNECTIONS / REPLICAS);
  for (let attempt = 1; cookies.length < CONNECTIONS; attempt++) {
    if (attempt > CONNECTIONS * 20)
      throw new Error(`${label}: no ${quota} sessions on every replica in ${attempt - 1} tries`);
    const client = new Client();
    try {
      const first = await client.get(url);
      const second = await client.get(url);
      if (first.status !== 200 || second.status !== 200 || second.count !== 2 || !client.jar.has("sid")) {
        throw new Error(`${label}: could not open a session (${first.status}, ${second.status})`);
      }
      const pod = second.hostname ?? "";
      const held = perReplica.get(pod) ?? 0;
      if (balanced && held >= quota) continue;
      perReplica.set(pod, held + 1);
      cookies.push(client.cookie() as string);
    } finally {
      client.close();
    }
  }
  return cookies;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * The latency of the hop itself: CONNECTIONS keep-alive connections, each sending one request every
 * CONNECTIONS/rate seconds on its own staggered schedule (autocannon's `overallRate` sends each
 * second's quota in a burst, which measures queueing instead). Adds the response times to `times`.
 */
async function paced(
  url: string,
  cookies: readonly string[] | undefined,
  label: string,
  rate: number,
  seconds: number,
  times: number[],
): Promise<void> {
  const interval = (CONNECTIONS / rate) * 1000;
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  const connection = async (c: number): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const cookie = cookies?.[c % cookies.length];
    try {
      await new Promise((r) => setTimeout(r, (c * interval) / CONNECTIONS));
      let next = performance.now();
      while (next < deadline) {
        const sent = performance.now();
        const answer = await get(url, agent, cookie).catch(() => undefined);
        if (answer?.status === 200) times.push(performance.now() - sent);
        else failures++;
        next += interval;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, c) => connection(c)));
  if (failures > 0) throw new Error(`${label} at ${rate} req/s: ${failures} failed requests`);
}

/** What one target's slices add up to in one mode. */
class Tally {
  requests = 0;
  seconds = 0;
  proxyCpuMs = 0;
  replicasCpuMs = 0;
  loadCpuMs = 0;
  /** Response time in µs → responses, over every slice. */
  readonly latency = new Map<number, number>();
  /** Requests/s of each round's slice, for the ratios round by round. */
  readonly perRound: number[] = [];
  fixed: Float64Array = new Float64Array(0);

  measured(): Measured {
    return {
      rps: this.requests / this.seconds,
      p50: percentileMs(this.latency, 50),
      p99: percentileMs(this.latency, 99),
      proxyCpuUs: (this.proxyCpuMs * 1000) / this.requests,
      replicasCpuUs: (this.replicasCpuMs * 1000) / this.requests,
      loadCpuUs: (this.loadCpuMs * 1000) / this.requests,
      fixedP50: percentile(this.fixed, 50),
      fixedP99: percentile(this.fixed, 99),
    };
  }
}

/** One slice of closed-loop load on a target, added to its tally. */
async function slice(
  running: Running,
  replicas: readonly Replica[],
  label: string,
  cookies: readonly string[] | undefined,
  tally: Tally,
  load: { binary: string; scriptFile: string },
): Promise<void> {
  const proxyPids = running.pids();
  const replicaPids = replicas.map((r) => r.pid);
  const proxyBefore = cpuMs(proxyPids);
  const replicasBefore = cpuMs(replicaPids);
  const r = await wrk({
    ...load,
    url: running.url,
    connections: CONNECTIONS,
    seconds: SLICE,
    ...(cookies ? { cookies } : {}),
  });
  tally.proxyCpuMs += cpuMs(proxyPids) - proxyBefore;
  tally.replicasCpuMs += cpuMs(replicaPids) - replicasBefore;
  if (r.errors) throw new Error(`${label}: failed requests (${r.errors})`);
  tally.loadCpuMs += r.cpuMs;
  tally.requests += r.requests;
  tally.seconds += r.seconds;
  tally.perRound.push(r.requests / r.seconds);
  addLatency(tally.latency, r.latency);
}

// --- the mesh under test, started from the built CLI as a user would -----------------------------

interface Up {
  child: ChildProcess;
  gatewayUrl: string;
  adminUrl: string;
  /** From spawn to the first 200 on /user through the gateway. */
  firstOkMs: number;
}

async function startUp(): Promise<Up> {
  const port = await freePort();
  const adminPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawnChild(
    process.execPath,
    [join(ROOT, "dist", "cli", "main.js"), "up", "--port", String(port), "--admin-port", String(adminPort)],
    "session-affinity up",
  );
  const deadline = started + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error("session-affinity up exited");
    const answer = await get(`${gatewayUrl}/user`, false, undefined, 1000).catch(() => undefined);
    if (answer?.status === 200) break;
    if (performance.now() > deadline) throw new Error("no 200 through the gateway within 30 s of `up`");
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    child,
    gatewayUrl,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    firstOkMs: performance.now() - started,
  };
}

/**
 * Fresh replicas before the measurement: `rollout restart` and wait for five new ready pods, so the
 * stores hold no sessions from the `up` runs' probes.
 */
async function freshReplicas(up: Up, previous: readonly Replica[]): Promise<Replica[]> {
  await new ControlClient(up.adminUrl).rolloutRestart(DEPLOYMENT);
  const old = new Set(previous.map((r) => r.name));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const replicas = await replicasOf(up);
    if (replicas.every((r) => !old.has(r.name))) return replicas;
    if (Date.now() > deadline) throw new Error("rollout restart did not replace the replicas within 60 s");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The five ready replicas once the Deployment has settled. */
async function replicasOf(up: Up): Promise<Replica[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new ControlClient(up.adminUrl);
    const state = await client.info();
    const pods = await client.resource("pods");
    const ready = pods.items.filter((p) => p.ready && p.address && p.pid);
    if (state.settled && ready.length === REPLICAS) {
      return ready.map((p) => ({ name: p.name, address: p.address as string, pid: p.pid as number }));
    }
    if (Date.now() > deadline) throw new Error(`the mesh did not settle with ${REPLICAS} ready replicas`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// --- the targets ---------------------------------------------------------------------------------

async function startServer(
  file: string,
  args: string[],
  label: string,
  port: number,
  env?: NodeJS.ProcessEnv,
  cleanup?: () => Promise<void>,
): Promise<Running> {
  const child = spawnChild(file, args, label, env);
  const stop = async () => {
    await stopChild(child);
    await cleanup?.();
  };
  try {
    const died = new Promise<never>((_, reject) =>
      child.once("exit", (code, signal) => reject(new Error(`${label} exited (${code ?? signal})`))),
    );
    died.catch(() => {});
    await Promise.race([waitForPort(port, 15_000), died]);
  } catch (err) {
    await stop();
    throw err;
  }
  const pid = child.pid as number;
  // nginx's master forks its worker; count both.
  return { url: `http://127.0.0.1:${port}/user`, pids: () => [pid, ...descendants(pid)], stop };
}

function targets(up: Up, nginx: string, haproxy: string): Target[] {
  return [
    {
      key: "direct",
      label: "one replica, direct (no proxy)",
      hashing: false,
      start: async (replicas) => ({
        url: `http://${(replicas[0] as Replica).address}/user`,
        pids: () => [],
        stop: async () => {},
      }),
    },
    {
      key: "gateway",
      label: "session-affinity gateway",
      hashing: true,
      start: async () => ({
        url: `${up.gatewayUrl}/user`,
        // The `up` process alone: gateway, control plane, admin API and readiness probes.
        pids: () => [up.child.pid as number],
        stop: async () => {},
      }),
    },
    {
      key: "nginx",
      label: "nginx (hash $cookie consistent)",
      hashing: true,
      start: async (replicas) => {
        const dir = await mkdtemp(join(tmpdir(), "bench-mesh-nginx-"));
        const port = await freePort();
        const config = join(dir, "nginx.conf");
        await writeFile(config, nginxConfig({ port, upstreams: replicas.map((r) => r.address), dir }));
        return startServer(
          nginx,
          [
            "-c",
            config,
            "-p",
            dir,
            "-e",
            join(dir, "startup-error.log"),
            "-g",
            "daemon off; master_process on;",
          ],
          "nginx",
          port,
          undefined,
          () => rm(dir, { recursive: true, force: true }),
        );
      },
    },
    {
      key: "haproxy",
      label: "HAProxy (balance hash cookie, consistent)",
      hashing: true,
      start: async (replicas) => {
        const dir = await mkdtemp(join(tmpdir(), "bench-mesh-haproxy-"));
        const port = await freePort();
        const config = join(dir, "haproxy.cfg");
        await writeFile(config, haproxyConfig({ port, upstreams: replicas.map((r) => r.address) }));
        return startServer(haproxy, ["-f", config, "-db"], "haproxy", port, undefined, () =>
          rm(dir, { recursive: true, force: true }),
        );
      },
    },
    {
      key: "http-proxy",
      label: "node http-proxy + JS ring hash",
      hashing: true,
      start: async (replicas) => {
        const port = await freePort();
        return startServer(
          process.execPath,
          [join(PEERS_OUT, "http-proxy-hash.js")],
          "http-proxy peer",
          port,
          {
            PATH: process.env.PATH ?? "",
            NODE_ENV: "production",
            PORT: String(port),
            UPSTREAMS: replicas.map((r) => r.address).join(","),
          },
        );
      },
    },
    {
      key: "bare-proxy",
      label: "bare node:http proxy",
      hashing: true,
      start: async (replicas) => {
        const port = await freePort();
        return startServer(process.execPath, [join(PEERS_OUT, "bare-proxy.js")], "bare Node proxy", port, {
          PATH: process.env.PATH ?? "",
          NODE_ENV: "production",
          PORT: String(port),
          UPSTREAMS: replicas.map((r) => r.address).join(","),
        });
      },
    },
  ];
}

// --- report --------------------------------------------------------------------------------------

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const nginx = findBinary("nginx");
  const haproxy = findBinary("haproxy");
  const wrkBinary = findBinary("wrk");
  if (!nginx || !haproxy || !wrkBinary) {
    const missing = [nginx ? "" : "nginx", haproxy ? "" : "haproxy", wrkBinary ? "" : "wrk"]
      .filter(Boolean)
      .join(", ");
    throw new Error(
      `${missing} not found (looked in PATH, /usr/sbin, /usr/local/sbin). Install the Debian packages first:\n` +
        "  sudo apt-get update && sudo apt-get install -y nginx haproxy wrk\n" +
        "The benchmark runs them in the foreground on free loopback ports; their system services are not needed.",
    );
  }
  const versions = {
    // nginx -v prints to stderr.
    nginx: spawnSync(nginx, ["-v"], { encoding: "utf8" }).stderr.trim(),
    haproxy: (spawnSync(haproxy, ["-v"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "").replace(
      / - https.*/,
      "",
    ),
    httpProxy: (createRequire(import.meta.url)("http-proxy/package.json") as { version: string }).version,
    // wrk -v prints its version line and exits with 1.
    wrk: (spawnSync(wrkBinary, ["-v"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "").replace(
      / Copyright.*/,
      "",
    ),
  };
  const started = Date.now();
  const loadBefore = loadavg();
  build();
  const scratch = await mkdtemp(join(tmpdir(), "bench-mesh-wrk-"));
  const load = { binary: wrkBinary, scriptFile: join(scratch, "load.lua") };

  // `up` from spawn to the first 200; every run but the last is stopped, the last one is measured.
  const upTimes: number[] = [];
  let up: Up | undefined;
  for (let i = 0; i < UP_RUNS; i++) {
    if (up) await stopChild(up.child);
    up = await startUp();
    upTimes.push(up.firstOkMs);
    console.log(`up run ${i + 1}: first 200 through the gateway after ${fmt(up.firstOkMs)} ms`);
  }
  if (!up) throw new Error("BENCH_UP_RUNS must be at least 1");
  try {
    let replicas = await replicasOf(up);
    const list = targets(up, nginx, haproxy).filter((t) => !ONLY || ONLY.includes(t.key));
    if (list.length === 0)
      throw new Error(
        `BENCH_ONLY names no target (keys: ${targets(up, nginx, haproxy)
          .map((t) => t.key)
          .join(", ")})`,
      );
    const tallies = new Map<string, Record<Mode, Tally>>(
      list.map((t) => [t.key, { "same-session": new Tally(), "new-client": new Tally() }]),
    );
    const tally = (key: string, mode: Mode): Tally => tallies.get(key)?.[mode] as Tally;
    const spreads = new Map<string, string>();
    const fixedRates = new Map<Mode, number>();
    replicas = await freshReplicas(up, replicas);
    const running = new Map<string, Running>();
    try {
      for (const target of list) running.set(target.key, await target.start(replicas));
      const runningOf = (target: Target): Running => running.get(target.key) as Running;
      const cookies = new Map<string, string[]>();
      for (const target of list) {
        if (target.hashing) {
          const spread = await verifySticky(runningOf(target).url, target.label);
          spreads.set(target.key, [...spread.values()].sort((a, b) => b - a).join("/"));
        }
        cookies.set(target.key, await sessions(runningOf(target).url, target.label, target.hashing));
      }
      for (const mode of MODES) {
        const cookiesOf = (target: Target) => (mode === "same-session" ? cookies.get(target.key) : undefined);
        for (const target of list) {
          const cookies = cookiesOf(target);
          await wrk({
            ...load,
            url: runningOf(target).url,
            connections: CONNECTIONS,
            seconds: WARMUP,
            ...(cookies ? { cookies } : {}),
          });
        }
        for (let round = 1; round <= ROUNDS; round++) {
          // A rotated order each round, so no target always runs first or last.
          const order = list.map((_, i) => list[(i + round - 1) % list.length] as Target);
          for (const target of order) {
            await slice(
              runningOf(target),
              replicas,
              `${target.label} ${mode}`,
              cookiesOf(target),
              tally(target.key, mode),
              load,
            );
          }
          console.log(
            `${mode} round ${round}: ${list.map((t) => `${t.key} ${fmt(tally(t.key, mode).perRound.at(-1) ?? 0)}`).join(", ")} req/s`,
          );
        }
        // A load far from saturating any target, so what is left is the time the hop itself adds.
        const proxies = list.filter((t) => t.key !== "direct").map((t) => tally(t.key, mode));
        const slowest = Math.min(...proxies.map((t) => t.requests / t.seconds));
        const rate = FIXED_RATE ?? Math.max(100, Math.floor((slowest * FIXED_SHARE) / 100) * 100);
        fixedRates.set(mode, rate);
        // In short slices, rotated like the closed-loop rounds, so a slow phase falls on every target.
        const fixedTimes = new Map(list.map((t) => [t.key, [] as number[]]));
        for (let round = 1; round <= FIXED_ROUNDS; round++) {
          for (const target of list.map((_, i) => list[(i + round - 1) % list.length] as Target)) {
            await paced(
              runningOf(target).url,
              cookiesOf(target),
              `${target.label} ${mode}`,
              rate,
              FIXED_DURATION / FIXED_ROUNDS,
              fixedTimes.get(target.key) as number[],
            );
          }
        }
        for (const target of list)
          tally(target.key, mode).fixed = Float64Array.from(fixedTimes.get(target.key) as number[]).sort();
      }
    } finally {
      for (const r of running.values()) await r.stop();
    }

    // Sorting every response time is done once per target and mode, not at each use of a figure.
    const results = new Map<string, Record<Mode, Measured>>(
      list.map((t) => [
        t.key,
        {
          "same-session": tally(t.key, "same-session").measured(),
          "new-client": tally(t.key, "new-client").measured(),
        },
      ]),
    );
    const result = (key: string, mode: Mode): Measured => results.get(key)?.[mode] as Measured;
    // Gateway ÷ peer within each round: the spread behind the totals.
    const perRound = (peer: string, mode: Mode): number[] => {
      const peerRounds = tally(peer, mode).perRound;
      return tally("gateway", mode).perRound.map((g, i) => g / (peerRounds[i] as number));
    };
    const spreadOf = (ratios: number[]): string => {
      const sorted = [...ratios].sort((a, b) => a - b);
      const median = sorted[Math.floor((sorted.length - 1) / 2)] as number;
      return `median ${median.toFixed(2)}×, ${(sorted[0] as number).toFixed(2)}–${(sorted.at(-1) as number).toFixed(2)}×`;
    };
    if (ONLY) {
      for (const target of list) {
        for (const mode of MODES) {
          const m = result(target.key, mode);
          console.log(
            `${target.key} ${mode}: ${fmt(m.rps)} req/s, proxy ${fmt(m.proxyCpuUs)} µs/req, replicas ${fmt(m.replicasCpuUs)} µs/req`,
          );
        }
      }
      if (ONLY.includes("gateway"))
        for (const peer of ONLY.filter((k) => k !== "gateway"))
          for (const mode of MODES)
            console.log(`gateway ÷ ${peer} round by round, ${mode}: ${spreadOf(perRound(peer, mode))}`);
      return;
    }
    const rows: string[][] = [];
    for (const target of list) {
      for (const mode of MODES) {
        const m = result(target.key, mode);
        rows.push([
          target.label,
          mode,
          fmt(m.rps),
          fmt(m.p50, 2),
          fmt(m.p99, 2),
          fmt(result(target.key, mode).fixedP50, 2),
          fmt(result(target.key, mode).fixedP99, 2),
          target.key === "direct" ? "—" : fmt(m.proxyCpuUs),
          fmt(m.replicasCpuUs),
          fmt(m.loadCpuUs),
        ]);
      }
    }
    const peers = list.filter((t) => t.key !== "gateway" && t.key !== "direct");
    const ratioRows = MODES.map((mode) => [
      mode,
      ...peers.map((p) => `${(result("gateway", mode).rps / result(p.key, mode).rps).toFixed(2)}×`),
    ]);

    const rpsTarget = (what: string, peer: string, goal: number): string[] => {
      const per = MODES.map((mode) => result("gateway", mode).rps / result(peer, mode).rps);
      return [what, ...per.map((r) => `${r.toFixed(2)}×`), per.every((r) => r >= goal) ? "met" : "missed"];
    };
    const added = MODES.map((mode) => result("gateway", mode).p50 - result("direct", mode).p50);
    const addedFixed = MODES.map(
      (mode) => result("gateway", mode).fixedP50 - result("direct", mode).fixedP50,
    );
    const nginxAdded = MODES.map((mode) => result("nginx", mode).p50 - result("direct", mode).p50);
    const cpuRatio = MODES.map(
      (mode) => result("http-proxy", mode).proxyCpuUs / result("gateway", mode).proxyCpuUs,
    );
    // The bare proxy forwards and nothing else: its lead over http-proxy is what node:http alone allows.
    const ceiling = MODES.map((mode) => result("bare-proxy", mode).rps / result("http-proxy", mode).rps);
    const ofCeiling = MODES.map((mode) => result("gateway", mode).rps / result("bare-proxy", mode).rps);
    const bareCpu = MODES.map((mode) => result("bare-proxy", mode).proxyCpuUs);
    const upSorted = [...upTimes].sort((a, b) => a - b);
    const upMedian = upSorted[Math.floor(upSorted.length / 2)] as number;
    const rates = MODES.map((mode) => fmt(fixedRates.get(mode) ?? 0)).join(" / ");
    const targetRows = [
      rpsTarget("req/s ≥ 1.5× the http-proxy peer", "http-proxy", 1.5),
      rpsTarget("req/s ≥ 0.4× nginx", "nginx", 0.4),
      [
        `added p50 ≤ 1 ms at ${CONNECTIONS} connections, ${rates} req/s offered (gateway − one replica direct)`,
        ...addedFixed.map((a) => `${fmt(a, 2)} ms`),
        addedFixed.every((a) => a <= 1) ? "met" : "missed",
      ],
      [
        "added p50 at 50 connections, closed loop (saturated: see below)",
        ...added.map((a) => `${fmt(a, 2)} ms`),
        added.every((a) => a <= 1) ? "met" : "missed",
      ],
      [
        `\`up\` to the first 200 ≤ 3 s, 5 replicas (median of ${upTimes.length})`,
        `${fmt(upMedian / 1000, 2)} s`,
        "",
        upMedian <= 3000 ? "met" : "missed",
      ],
    ];

    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    const loadAfter = loadavg();
    const la = (l: number[]) => l.map((x) => x.toFixed(1)).join(" / ");
    const markdown = `## Local mesh: gateway vs. nginx, HAProxy, http-proxy and a bare node:http proxy (\`bench/mesh.ts\`)

${machineLine()}
${versions.nginx}, ${versions.haproxy}, http-proxy ${versions.httpProxy}, ${versions.wrk}.

One \`node dist/cli/main.js up\` (built output, \`deploy/\` applied, 5 replicas, memory store) supplies the
gateway and the five replica processes; nginx, HAProxy, the http-proxy peer and the bare node:http proxy are put in front of
the same five replicas, and one replica is also hit directly as the baseline. All targets run at once (each idle while another is loaded), and the load
moves between them: per mode, a ${WARMUP} s warm-up each, then ${ROUNDS} rounds in which every target gets ${SLICE} s of load, in an
order rotated each round. Other work on these shared cores changes their speed by half or more within minutes; in
slices a few seconds apart, such a change falls on every target alike. Each figure is the total over the target's
slices (${ROUNDS * SLICE} s per mode). Load: wrk (\`bench/wrk.ts\`), one thread, ${CONNECTIONS} keep-alive connections. The replicas are replaced
once before the first target starts; all targets' sessions then live in the same five stores.
*same-session*: ${CONNECTIONS} sessions per proxy (\`session-route\` from the proxy and the app's \`sid\`, both
obtained through that proxy first, ${CONNECTIONS / REPLICAS} sessions on each replica for every proxy), whose cookies the requests carry in
turn, as from a front load balancer that mixes users on its connections (wrk's scripts cannot tell
connections apart), so the load is spread evenly over the replicas and stays on each session's replica. *new-client*: no cookies at all, so every request opens a session and the proxy
generates a \`session-route\` cookie (from the connection's addresses, as Envoy does) and sets it.
Before measuring, each proxy is checked to stick: ${STICKY_CLIENTS} cookie-jar clients, ${STICKY_REQUESTS} requests each plus
one from a new connection, must each stay on one replica with the counter going 1, 2, 3 … (clients
per replica in the last check: ${[...spreads].map(([k, v]) => `${k} ${v}`).join(", ")}).

**The load generator, the proxy and the five replicas share the same 2 cores**, so absolute req/s are
far below what a proxy reaches on its own machine and mostly measure how much CPU each proxy leaves to
the replicas and to the load generator; the CPU columns (user + system of the proxy's processes, of the five
replicas and of wrk, over the measured run divided by requests answered) are steadier than req/s. wrk is
the load generator because it takes the least of the shared CPU: the CPU every target loses to it dilutes
every ratio towards 1×. p50/p99 come from every response's own time (wrk's histogram, in µs). Gateway CPU is the whole \`up\`
process (gateway plus control plane, admin API and readiness probes). Whole run: ${minutes} min; load average
(1/5/15 min) ${la(loadBefore)} at the start and ${la(loadAfter)} at the end (other work shares the machine).

${table(
  [
    "Target",
    "Mode",
    "req/s",
    "p50 ms",
    "p99 ms",
    "p50 ms at a fixed rate",
    "p99 ms at a fixed rate",
    "proxy CPU µs/req",
    "replicas CPU µs/req",
    "wrk CPU µs/req",
  ],
  rows,
)}

Gateway requests/s divided by each peer's, same mode (CPU per request, the http-proxy peer's divided
by the gateway's: ${cpuRatio.map((r) => `${r.toFixed(2)}×`).join(" same-session, ")} new-client):

${table(["Mode", ...peers.map((p) => `÷ ${p.label}`)], ratioRows)}

The same ratio within each round (gateway ÷ http-proxy, slices seconds apart): same-session
${spreadOf(perRound("http-proxy", "same-session"))}; new-client ${spreadOf(perRound("http-proxy", "new-client"))}.

${table(["Target", "same-session", "new-client", "Met"], targetRows)}

Added latency is measured twice. *Closed loop* (the req/s runs): each of the ${CONNECTIONS} connections sends its
next request as soon as the last one is answered, so every process is saturated and p50 is simply
connections ÷ throughput (Little's law): it restates the req/s figure, and on these shared cores even
nginx adds ${nginxAdded.map((a) => `${fmt(a, 2)} ms`).join(" / ")} (same-session / new-client) that way. *Fixed rate*: ${CONNECTIONS} connections,
each with one of the same sessions' cookies and sending its requests at even intervals on its own staggered schedule,
${FIXED_DURATION} s per target in ${FIXED_ROUNDS} slices rotated among the targets, from a plain Node client, at ${rates} req/s in all (same-session / new-client):
${FIXED_RATE === undefined ? `a quarter of the slowest proxy's closed-loop req/s in that mode, so that no target is near saturation` : "as set by BENCH_FIXED_RATE"}.
The difference to the direct replica is then the time the hop itself adds; the target is judged on this one.

\`up\` until the first 200 on /user through the gateway, from spawning \`node dist/cli/main.js up --port P
--admin-port Q\`: ${upTimes.map((t) => `${fmt(t)} ms`).join(", ")}.

Closest equivalents chosen: nginx \`hash $route_key consistent\` (ketama) where \`$route_key\` is the
\`session-route\` cookie (read with a \`map\` on the Cookie header: \`$cookie_NAME\` cannot name a cookie
with a hyphen) or, without it, the connection's addresses, then set as the cookie with \`add_header\`.
HAProxy \`balance hash var(txn.route)\` with \`hash-type consistent\`, the variable filled the same way
and set with \`http-response add-header\`; \`balance hdr(cookie)\` would hash the whole Cookie header,
which changes once the app adds \`sid\`, and \`cookie … insert\` is server-name persistence, not hashing.
The http-proxy peer builds Envoy's ring (xxh64 of \`address_i\`, ≥ 1024 entries) in JS. All three keep
connections to the replicas alive and add X-Forwarded-For and X-Request-Id as the gateway does; nginx
and HAProxy run one worker/thread, as the gateway is one Node event loop. The gateway also does what
the others do not: VirtualService matching, retry bookkeeping, per-host stats.

The bare node:http proxy (\`bench/peers/bare-proxy.ts\`) is a yardstick, not a usable proxy: node:http downstream,
raw keep-alive sockets upstream, the same ring and cookie, X-Forwarded-For and X-Request-Id, and nothing
else (no routing, no header or response validation, no retries, no stats, no request bodies). It reaches
${ceiling.map((r) => `${r.toFixed(2)}×`).join(" / ")} the http-proxy peer (same-session / new-client) at
${bareCpu.map((c) => fmt(c)).join(" / ")} µs of CPU per request: what forwarding costs on one Node event loop when
node:http reads the requests. The gateway does Envoy's work on top but reads plain GETs itself (its own
request-head reader, responses written straight to the socket; \`src/mesh/downstream/\`), and reaches
${ofCeiling.map((r) => `${r.toFixed(2)}×`).join(" / ")} of the bare proxy's requests/s.
`;
    console.log(markdown);
    await writeSection("mesh", markdown);
    console.log(`wrote the mesh section of BENCHMARKS.md (${minutes} min)`);
  } finally {
    await stopChild(up.child);
    await rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    killAll();
    process.exit(1);
  },
);
