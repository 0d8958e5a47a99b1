import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SessionAffinityError } from "../errors.js";
import { formatFinding } from "../lint/index.js";
import { RejectedManifestError } from "../mesh/control-plane.js";
import { startMesh } from "../mesh/mesh.js";
import { renderResource } from "../mesh/tables.js";
import { readConfigDump } from "../proxy-config/config-dump.js";
import { endpointAddresses, snapshotOfDump } from "../proxy-config/snapshot.js";
import type { XdsSnapshot } from "../xds/snapshot.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity up [--empty | --config-dump FILE] [--port 8080] [--admin-port 15000] [--store memory|redis] [--replicas N] [paths...]

Runs the walkthrough's system on this machine from its manifests: pods as processes of the session
service, an Envoy-faithful ingress gateway and an admin/control API. Ctrl-C stops everything.

  paths               manifest files or folders to apply (default: the deploy/ folder, scaled to 5 replicas)
  --empty             start only the control plane and the gateway; replay the walkthrough with apply -f
  --config-dump FILE  run the gateway from a real proxy's /config_dump?include_eds (or istioctl
                      proxy-config all -o json): each endpoint is served by a local session replica
                      and keeps its real address as its hash key
  --port N            gateway port on 127.0.0.1 (default 8080; 0 picks a free one)
  --admin-port N      admin/control API port on 127.0.0.1 (default 15000; 0 picks a free one)
  --store NAME        memory (default) or redis: REDIS_URL, or a private redis-server on a free port
  --replicas N        scale every Deployment to N after applying (default 5 with deploy/)
  --help              show this help`;

const OPTIONS = {
  empty: { type: "boolean", default: false },
  "config-dump": { type: "string" },
  port: { type: "string", default: "8080" },
  "admin-port": { type: "string", default: "15000" },
  store: { type: "string", default: "memory" },
  replicas: { type: "string" },
  help: { type: "boolean", default: false },
} as const;

function usage(message: string): SessionAffinityError {
  return new SessionAffinityError("ERR_USAGE", `up: ${message}`);
}

function port(name: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw usage(`--${name} ${value} is not a port number`);
  return Number(value);
}

/** A real proxy's configuration, read as the snapshot the gateway runs. */
async function replaySnapshot(file: string): Promise<XdsSnapshot> {
  const text = await readFile(file, "utf8").catch((err: Error) => {
    throw usage(`--config-dump ${file}: ${err.message}`);
  });
  return snapshotOfDump(readConfigDump(text, file), "replay");
}

/** deploy/ next to the package: ../../deploy from src/cli or dist/cli. */
function defaultManifests(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "deploy");
}

export const upCommand: Command = {
  summary: "run the whole system locally: pods, ingress gateway, admin API (Ctrl-C stops)",
  async run(argv) {
    const { values, positionals } = parseFlags("up", argv, OPTIONS, true);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (values.store !== "memory" && values.store !== "redis") {
      throw usage(`--store ${values.store} must be memory or redis`);
    }
    if (values.empty && positionals.length > 0) throw usage("--empty takes no manifest paths");
    if (values.replicas !== undefined && !/^\d+$/.test(values.replicas)) {
      throw usage(`--replicas ${values.replicas} is not a non-negative integer`);
    }
    const replay =
      values["config-dump"] === undefined ? undefined : await replaySnapshot(values["config-dump"]);
    if (replay && (values.empty || positionals.length > 0 || values.replicas !== undefined))
      throw usage(
        "--config-dump takes no manifest paths, --empty or --replicas: its endpoints set the replicas",
      );
    const manifests = replay
      ? [join(defaultManifests(), "session.yaml")]
      : values.empty
        ? []
        : positionals.length > 0
          ? positionals
          : [defaultManifests()];
    const replicas = replay
      ? endpointAddresses(replay).length
      : values.replicas !== undefined
        ? Number(values.replicas)
        : positionals.length === 0 && !values.empty
          ? 5
          : undefined;
    const started = Date.now();
    const mesh = await startMesh({
      port: port("port", values.port),
      adminPort: port("admin-port", values["admin-port"]),
      store: values.store,
      manifests,
      ...(replicas === undefined ? {} : { replicas }),
      ...(replay ? { replay } : {}),
      waitReady: true,
    }).catch((err: unknown) => {
      // As `apply` does: the findings that rejected a file, then the one-line summary.
      if (err instanceof RejectedManifestError) {
        for (const finding of err.findings) process.stderr.write(`${formatFinding(finding)}\n`);
      }
      throw err;
    });
    const out = process.stdout;
    out.write(`local mesh up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    out.write(
      `  gateway    ${mesh.gatewayUrl}\n  admin      ${mesh.adminUrl} (token in ${mesh.admin.tokenFile})\n`,
    );
    out.write(`  dashboard  ${mesh.admin.dashboardUrl}\n  store      ${mesh.store}`);
    out.write(mesh.redisUrl ? ` (${mesh.redisUrl})\n\n` : "\n\n");
    if (replay) {
      out.write(
        `Replaying ${values["config-dump"]}: ${replicas} endpoints, each served by a local replica\n`,
      );
      for (const [address, pod] of endpointAddresses(replay).map((a) => [a, mesh.podAt(a)] as const))
        out.write(`  ${address} → ${pod ?? "(no replica ready)"}\n`);
      if (mesh.dataPlane.rejected)
        out.write(`The gateway refused the configuration: ${mesh.dataPlane.rejected}\n`);
      out.write("\n");
    }
    const views = mesh.views();
    if (views.pods.length > 0) out.write(`${renderResource("pods", views, Date.now())}\n`);
    out.write(
      manifests.length > 0
        ? `Try: curl -c jar -b jar ${mesh.gatewayUrl}/user\n`
        : `Empty mesh: no Gateway yet, so the gateway port answers nothing.\nReplay the walkthrough: session-affinity apply -f deploy/session.yaml\n`,
    );
    out.write("Ctrl-C stops every process the mesh started.\n");
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        process.stderr.write(`\n${signal}: stopping the local mesh\n`);
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        mesh.stop().then(resolve, resolve);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    return 0;
  },
};
