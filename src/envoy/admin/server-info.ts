/**
 * Envoy's /server_info (envoy.admin.v3.ServerInfo) for the emulated gateway, as
 * envoy: source/server/admin/server_info_handler.cc fills it.
 *
 * Left out: command_line_options. Envoy prints every option it was started with; pilot-agent's
 * choices that depend on the pod (concurrency, log levels, drain times from the proxy config) are
 * not known here, and a partial list would claim defaults Envoy did not run with.
 */
import { envoyNode, envoyVersionString } from "./identity.js";
import type { AppliedSnapshot, ProxyIdentity } from "./views.js";

/** envoy.admin.v3.ServerInfo.State as /server_info and /ready print it. */
export type ServerState = "LIVE" | "DRAINING" | "PRE_INITIALIZING" | "INITIALIZING";

export interface ServerInfo {
  readonly version: string;
  readonly state: ServerState;
  /** google.protobuf.Duration, whole seconds. */
  readonly uptimeCurrentEpoch: string;
  readonly uptimeAllEpochs: string;
  readonly hotRestartVersion: string;
  readonly node: Record<string, unknown>;
}

/**
 * The server as Envoy describes itself at `now` (epoch ms). Envoy stays INITIALIZING until the first
 * CDS and LDS responses are applied (Istio's bootstrap waits for them without a timeout), so the
 * state follows whether a snapshot is applied.
 */
export function serverInfo(
  identity: ProxyIdentity,
  applied: AppliedSnapshot | undefined,
  now: number,
): ServerInfo {
  // Envoy subtracts whole seconds (std::time_t) of the start from whole seconds of now.
  const uptime = Math.max(0, Math.floor(now / 1000) - Math.floor(identity.startedAt / 1000));
  return {
    version: envoyVersionString(identity),
    state: applied ? "LIVE" : "INITIALIZING",
    uptimeCurrentEpoch: `${uptime}s`,
    // No hot restart, so the first epoch is the current one.
    uptimeAllEpochs: `${uptime}s`,
    // pilot-agent starts Envoy with --disable-hot-restart (istio/istio pkg/envoy/proxy.go), and the
    // no-op hot restarter reports its version as "disabled".
    hotRestartVersion: "disabled",
    node: envoyNode(identity),
  };
}
