import { ControlClient, DEFAULT_ADMIN_URL } from "../mesh/control-client.js";
import type { Disruption } from "./run-check.js";

export type MeshAction = { scale: number } | { killPod: true } | { rollout: true };

const DEPLOYMENT = "session-deployment";
const SETTLE_TIMEOUT_MS = 60_000;

/** Polls the mesh until every Deployment has its replicas ready (what `kubectl rollout status` waits for). */
async function settled(client: ControlClient): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  // Give the control plane a moment to act on the change before "settled" can mean anything.
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; Date.now() < deadline && i < 1200; i++) {
    if ((await client.info()).settled) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls until the killed pod is seen not ready, restarted or gone (bounded like `settled`). */
async function noticed(client: ControlClient, pod: string, restartsBefore: number): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (let i = 0; Date.now() < deadline && i < 1200; i++) {
    const p = (await client.resource("pods")).items.find((item) => item.name === pod);
    if (!p?.ready || p.restarts > restartsBefore) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * `--scale N`, `--kill-pod`, `--rollout` against the local mesh's control API: makes the change, then
 * waits until the Deployment is ready again, so the requests after it see the new endpoint set.
 */
export function meshDisruption(adminUrl: string | undefined, action: MeshAction): Disruption {
  const client = new ControlClient(adminUrl ?? DEFAULT_ADMIN_URL);
  if ("scale" in action) {
    return {
      label: `scale ${DEPLOYMENT} to ${action.scale}`,
      async run() {
        await client.scale(DEPLOYMENT, action.scale);
        await settled(client);
      },
    };
  }
  if ("killPod" in action) {
    return {
      label: `SIGKILL of one ${DEPLOYMENT} pod`,
      async run() {
        const { items } = await client.resource("pods");
        const victim = items
          .filter((p) => p.deployment === DEPLOYMENT && p.ready)
          .map((p) => p.name)
          .sort()[0];
        if (victim === undefined) return;
        const before = items.find((p) => p.name === victim)?.restarts ?? 0;
        await client.killPod(victim);
        // The mesh learns of the death when the process exit is reaped; until then the pod still counts
        // as ready, so "settled" alone could hold before anything happened and the next requests would
        // go to a dead port.
        await noticed(client, victim, before);
        await settled(client);
      },
    };
  }
  return {
    label: `rolling restart of ${DEPLOYMENT}`,
    async run() {
      await client.rolloutRestart(DEPLOYMENT);
      await settled(client);
    },
  };
}
