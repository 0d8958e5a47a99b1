import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { type RedisServer, startRedis } from "./redis-server.js";

const run = promisify(execFile);

export interface RedisCluster {
  readonly nodes: RedisServer[];
  /** "127.0.0.1:port" of every node, masters first. */
  readonly seeds: string[];
  /** Ports of the nodes that are masters right now. */
  masters(): Promise<number[]>;
  waitHealthy(timeoutMs: number): Promise<void>;
  /** The hash slot of each key (CLUSTER KEYSLOT), asked in one redis-cli session. */
  keySlots(keys: readonly string[]): Promise<number[]>;
  /** The slot ranges the master on `port` serves now, `[first, last]` each. */
  slotsOf(port: number): Promise<[number, number][]>;
  /** Every replica has finished its first sync: until then it refuses to fail over (its data is too old). */
  waitReplicasSynced(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** A real Redis Cluster on loopback ports: `masters` masters with `replicasPerMaster` replicas each. */
export async function startRedisCluster(masters = 3, replicasPerMaster = 0): Promise<RedisCluster> {
  const root = await mkdtemp(join(tmpdir(), "sa-redis-cluster-"));
  const count = masters * (1 + replicasPerMaster);
  const nodes: RedisServer[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    nodes.push(
      await startRedis({
        port,
        dir: await mkdtemp(join(root, `node${i}-`)),
        extraArgs: [
          "--cluster-enabled",
          "yes",
          "--cluster-node-timeout",
          "1000",
          "--cluster-config-file",
          "nodes.conf",
        ],
      }),
    );
  }
  const seeds = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run(
    "redis-cli",
    ["--cluster", "create", ...seeds, "--cluster-replicas", String(replicasPerMaster), "--cluster-yes"],
    {
      timeout: 30_000,
    },
  );

  const cliWithInput = (port: number, input: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile("redis-cli", ["-p", String(port)], { timeout: 5000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
      child.stdin?.end(input);
    });
  const info = async (port: number, command: string[]) =>
    (await run("redis-cli", ["-p", String(port), ...command], { timeout: 5000 })).stdout;

  // Asked of the first node that answers: any of them may be the one a test stopped.
  const anyNode = async (command: string[]) => {
    for (const n of nodes) {
      const answer = await info(n.port, command).catch(() => "");
      if (answer) return answer;
    }
    return "";
  };

  const cluster: RedisCluster = {
    nodes,
    seeds,
    async keySlots(keys) {
      // Any live node computes slots; redis-cli runs one command per stdin line, one answer per line.
      const script = keys.map((k) => `CLUSTER KEYSLOT ${k}\n`).join("");
      for (const n of nodes) {
        const answer = await cliWithInput(n.port, script).catch(() => "");
        const slots = answer.trim().split("\n").filter(Boolean).map(Number);
        if (slots.length === keys.length && slots.every(Number.isInteger)) return slots;
      }
      throw new Error("no redis cluster node answered CLUSTER KEYSLOT");
    },
    async slotsOf(port) {
      const line = (await anyNode(["cluster", "nodes"]))
        .split("\n")
        .find((l) => l.split(" ")[1]?.split("@")[0]?.endsWith(`:${port}`));
      // Fields 9 on are slots: "first-last" or a single slot ("[…]" entries are slots in migration).
      return (line?.split(" ").slice(8) ?? [])
        .filter((f) => /^\d+(-\d+)?$/.test(f))
        .map((f) => {
          const [first, last] = f.split("-").map(Number) as [number, number | undefined];
          return [first, last ?? first];
        });
    },
    async masters() {
      const live = await anyNode(["cluster", "nodes"]);
      return live
        .split("\n")
        .filter((l) => l.includes("master") && !l.includes("fail"))
        .map((l) => Number(l.split(" ")[1]?.split(":")[1]?.split("@")[0]));
    },
    async waitHealthy(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(
          nodes.map((n) => info(n.port, ["cluster", "info"]).catch(() => "down")),
        );
        if (states.every((s) => s === "down" || s.includes("cluster_state:ok"))) return;
        if (Date.now() > deadline) throw new Error("redis cluster did not become healthy");
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async waitReplicasSynced(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const roles = await Promise.all(
          nodes.map((n) => info(n.port, ["info", "replication"]).catch(() => "")),
        );
        const replicas = roles.filter((r) => r.includes("role:slave"));
        if (replicas.every((r) => r.includes("master_link_status:up"))) return;
        if (Date.now() > deadline) throw new Error("redis cluster replicas did not sync");
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await rm(root, { recursive: true, force: true });
    },
  };
  await cluster.waitHealthy(20_000);
  return cluster;
}
