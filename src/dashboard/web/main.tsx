/**
 * The dashboard page: what the event stream reports, and buttons that call the control API exactly
 * as the CLI verbs do (apply/delete -f, scale, rollout restart, kill-pod, store).
 */
import { render } from "preact";
import { useState } from "preact/hooks";
import { MAX_CLIENTS, type PodCard, type PolicyView, type VariantView } from "../protocol.js";
import { post, useLiveState } from "./api.js";
import { ClientTable, PodCards, RpsChart, StickyChart, shortPod, TrafficFlow, Yaml } from "./views.js";

const POLICY_NAMES: Record<PolicyView["kind"], string> = {
  none: "None (least request)",
  "ring-hash": "Ring hash",
  maglev: "Maglev",
  "persistent-session": "Persistent session",
  simple: "Simple balancing",
  absent: "Service not routed",
};

function App() {
  const live = useLiveState();
  const [busy, setBusy] = useState<string | undefined>();
  const [message, setMessage] = useState("Ready.");
  const [clients, setClients] = useState(6);
  const { tick, hello, manifests } = live;
  const deployment = tick?.deployment;

  const act = async (what: string, run: () => Promise<string | undefined>) => {
    setBusy(what);
    setMessage(`${what}…`);
    try {
      const done = await run();
      setMessage(done ?? `${what}: done.`);
    } catch (err) {
      setMessage(`${what} failed: ${(err as Error).message}`);
    } finally {
      setBusy(undefined);
    }
  };

  const apply = (v: VariantView) =>
    act(`Apply ${v.label}`, async () => {
      const r = await post<{ objects: { resource: string; action: string }[] }>("/api/v1/apply", {
        file: v.file,
        text: v.text,
      });
      return `Applied ${v.label}: ${r.objects.map((o) => `${o.resource} ${o.action}`).join(", ")}.`;
    });

  const removeRule = (v: VariantView) =>
    act("Remove the DestinationRule", async () => {
      const r = await post<{ objects: { resource: string; action: string }[] }>("/api/v1/delete", {
        file: v.file,
        text: v.text,
      });
      return `Removed: ${r.objects.map((o) => `${o.resource} ${o.action}`).join(", ") || "nothing"}.`;
    });

  const scale = (by: number) =>
    deployment &&
    act(`Scale to ${deployment.replicas + by}`, async () => {
      await post("/api/v1/scale", {
        name: deployment.name,
        namespace: deployment.namespace,
        replicas: deployment.replicas + by,
      });
      return `deployment.apps/${deployment.name} scaled to ${deployment.replicas + by}.`;
    });

  const restart = () =>
    deployment &&
    act("Rolling restart", async () => {
      await post("/api/v1/rollout-restart", { name: deployment.name, namespace: deployment.namespace });
      return `deployment.apps/${deployment.name} restarted.`;
    });

  const kill = (pod: PodCard) =>
    act(`Kill ${shortPod(pod.name, pod.deployment)}`, async () => {
      await post("/api/v1/kill-pod", { name: pod.name, namespace: pod.namespace });
      return `pod/${pod.name} killed (SIGKILL); the kubelet restarts its container.`;
    });

  const store = (name: "memory" | "redis") =>
    act(`Switch the store to ${name}`, async () => {
      await post("/api/v1/store", { store: name });
      return `Store switched to ${name}: every pod is being replaced (rolling restart).`;
    });

  const traffic = (settings: Record<string, unknown>, what: string) =>
    act(what, async () => {
      await post("/api/v1/traffic", settings);
      return undefined;
    });

  const variants = hello?.variants ?? [];
  const applied = manifests?.variant;
  const ruleInForce = tick?.policy.destinationRule !== undefined;
  const running = tick?.traffic.running ?? false;
  const podNames = tick?.pods.map((p) => p.name) ?? [];
  const share = tick?.traffic.stickyShare;
  const policy = tick?.policy;

  return (
    <>
      <header class="top">
        <h1>Session affinity · local mesh</h1>
        <p class="meta">
          <span class={live.connected ? "dot on" : "dot off"} aria-hidden="true" />
          {live.connected
            ? "Live"
            : live.unauthorized
              ? "Not signed in: open the dashboard address that `session-affinity up` printed (it carries the mesh's token)"
              : "Reconnecting…"}
          {hello ? (
            <>
              {" · gateway "}
              <code>{hello.gateway}</code>
            </>
          ) : null}
          {tick ? ` · store ${tick.store}` : ""}
        </p>
      </header>
      <main>
        <section aria-labelledby="controls-h" class="panel controls">
          <h2 id="controls-h">Controls</h2>
          <fieldset>
            <legend>Affinity rule for {policy?.service ?? "session-svc"}</legend>
            <button
              type="button"
              aria-pressed={!ruleInForce}
              disabled={!!busy || !ruleInForce || variants.length === 0}
              onClick={() => variants[0] && removeRule(variants[0])}
            >
              No rule
            </button>
            {variants.map((v) => (
              <button
                key={v.id}
                type="button"
                aria-pressed={applied === v.id}
                disabled={!!busy}
                title={v.file}
                onClick={() => apply(v)}
              >
                {v.label}
              </button>
            ))}
          </fieldset>
          <fieldset>
            <legend>Replicas</legend>
            <button
              type="button"
              aria-label="Scale down by one"
              disabled={!!busy || !deployment || deployment.replicas === 0}
              onClick={() => scale(-1)}
            >
              −
            </button>
            <output aria-live="polite" aria-label="Desired replicas">
              {deployment ? `${deployment.ready}/${deployment.replicas}` : "–"}
            </output>
            <button
              type="button"
              aria-label="Scale up by one"
              disabled={!!busy || !deployment || deployment.replicas >= 10}
              onClick={() => scale(1)}
            >
              +
            </button>
            <button type="button" disabled={!!busy || !deployment} onClick={restart}>
              Rolling restart
            </button>
          </fieldset>
          <fieldset>
            <legend>Session store</legend>
            {(["memory", "redis"] as const).map((s) => (
              <button
                key={s}
                type="button"
                aria-pressed={tick?.store === s}
                disabled={!!busy || !tick || tick.store === s}
                onClick={() => store(s)}
              >
                {s === "memory" ? "Memory" : "Redis"}
              </button>
            ))}
          </fieldset>
          <fieldset>
            <legend>Simulated clients</legend>
            <label>
              Clients{" "}
              <input
                type="number"
                min={1}
                max={MAX_CLIENTS}
                value={clients}
                onChange={(e) => {
                  const n = Math.min(MAX_CLIENTS, Math.max(1, Number(e.currentTarget.value) || 1));
                  setClients(n);
                  if (running) void traffic({ clients: n }, `Use ${n} clients`);
                }}
              />
            </label>
            <button
              type="button"
              disabled={!!busy || !tick}
              onClick={() =>
                running
                  ? traffic({ running: false }, "Stop traffic")
                  : traffic({ running: true, clients }, "Start traffic")
              }
            >
              {running ? "Stop traffic" : "Start traffic"}
            </button>
            <button
              type="button"
              disabled={!!busy || !tick}
              title="Fresh cookie jars and counters"
              onClick={() => traffic({ reset: true, clients }, "New clients")}
            >
              New clients
            </button>
          </fieldset>
          <p class="status" role="status" aria-live="polite">
            {message}
          </p>
        </section>

        <section aria-labelledby="policy-h" class="panel policy">
          <h2 id="policy-h">Routing policy</h2>
          {policy ? (
            <dl>
              <div>
                <dt>Policy</dt>
                <dd data-policy={policy.kind}>{POLICY_NAMES[policy.kind]}</dd>
              </div>
              <div>
                <dt>Hash key</dt>
                <dd>{policy.key ?? "none"}</dd>
              </div>
              <div>
                <dt>Balancer</dt>
                <dd>{policy.lbPolicy ?? "–"}</dd>
              </div>
              <div>
                <dt>DestinationRule</dt>
                <dd>{policy.destinationRule ?? "none"}</dd>
              </div>
            </dl>
          ) : (
            <p class="muted">Waiting for the mesh…</p>
          )}
        </section>

        <section aria-labelledby="pods-h" class="panel pods-panel">
          <h2 id="pods-h">Pods ({tick?.pods.length ?? 0})</h2>
          <PodCards pods={tick?.pods ?? []} onKill={kill} busy={!!busy} />
        </section>

        <section aria-labelledby="traffic-h" class="panel traffic">
          <h2 id="traffic-h">
            Live traffic{" "}
            <span class="muted">
              {share === undefined ? "" : `· ${Math.round(share * 100)} % of clients sticky`}
            </span>
          </h2>
          <div class="traffic-body">
            <TrafficFlow clients={tick?.traffic.clients ?? []} pods={tick?.pods ?? []} shots={live.shots} />
            <ClientTable
              clients={tick?.traffic.clients ?? []}
              {...(deployment ? { deployment: deployment.name } : {})}
            />
          </div>
          <p class="muted small">
            Each client keeps its own cookie jar and connection and sends <code>GET /user</code> through the
            gateway with <code>{tick?.traffic.userHeader ?? "x-session-user"}: its name</code>. Sticky: its
            last 6 answers came from one pod.
          </p>
        </section>

        <section aria-labelledby="charts-h" class="panel charts">
          <h2 id="charts-h">Over time</h2>
          <div class="chart-grid">
            <figure>
              <figcaption>Requests per second per pod</figcaption>
              <RpsChart history={hello?.history ?? []} live={podNames} />
            </figure>
            <figure>
              <figcaption>Sticky clients</figcaption>
              <StickyChart history={hello?.history ?? []} />
            </figure>
          </div>
        </section>

        <section aria-labelledby="manifests-h" class="panel manifests">
          <h2 id="manifests-h">Applied manifests</h2>
          <details>
            <summary>Show the effective YAML (read-only)</summary>
            <Yaml text={manifests?.yaml ?? ""} />
          </details>
        </section>
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
