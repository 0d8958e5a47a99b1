/** The dashboard's read-only views: pod cards, the traffic picture, the charts, the manifests. */
import type { ClientView, HistoryPoint, PodCard } from "../protocol.js";
import type { Shot } from "./api.js";

/** Dark enough for white text and for lines on white; kept per pod while it lives. */
const POD_COLORS = [
  "#2f4b7c",
  "#7b3f98",
  "#00695c",
  "#8d5524",
  "#a0336b",
  "#455a64",
  "#1a237e",
  "#33691e",
  "#6d4c41",
  "#4a148c",
];
const GONE_COLOR = "#9aa3b2";
const podColors = new Map<string, string>();

export function podColor(name: string, live: readonly string[]): string {
  const known = podColors.get(name);
  if (known) return known;
  // Only live pods take a colour: a pod seen only in the history has gone, and is drawn grey.
  if (!live.includes(name)) return GONE_COLOR;
  const used = new Set(live.map((p) => podColors.get(p)).filter(Boolean));
  const color = POD_COLORS.find((c) => !used.has(c)) ?? POD_COLORS[podColors.size % POD_COLORS.length];
  podColors.set(name, color as string);
  return color as string;
}

/** `session-deployment-79948c59b5-nv2hc` → `79948c59b5-nv2hc`: the part that tells pods apart. */
export function shortPod(name: string, deployment?: string): string {
  return deployment && name.startsWith(`${deployment}-`) ? name.slice(deployment.length + 1) : name;
}

const fmtRps = (v: number) => (v >= 10 ? v.toFixed(0) : v.toFixed(1));

export function PodCards(props: { pods: readonly PodCard[]; onKill: (pod: PodCard) => void; busy: boolean }) {
  const live = props.pods.map((p) => p.name);
  return (
    <ul class="pods" aria-label="Pods">
      {props.pods.map((pod) => (
        <li
          key={pod.name}
          class={`pod ${pod.terminating ? "terminating" : pod.ready ? "ready" : "not-ready"}`}
          data-pod={pod.name}
        >
          <div class="pod-head">
            <span class="swatch" aria-hidden="true">
              <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
                <rect width="12" height="12" rx="2" fill={podColor(pod.name, live)} />
              </svg>
            </span>
            <span class="pod-name" title={pod.name}>
              {shortPod(pod.name, pod.deployment)}
            </span>
          </div>
          <div class="pod-status">
            {pod.terminating ? "Terminating" : pod.ready ? "Ready" : pod.status}
            {pod.restarts > 0 ? ` · ${pod.restarts} restart${pod.restarts === 1 ? "" : "s"}` : ""}
          </div>
          <dl class="pod-stats">
            <div>
              <dt>req/s</dt>
              <dd data-stat="rps">{fmtRps(pod.rps)}</dd>
            </div>
            <div>
              <dt>sessions</dt>
              <dd data-stat="sessions">{pod.sessions ?? "–"}</dd>
            </div>
            <div>
              <dt>restarts</dt>
              <dd data-stat="restarts">{pod.restarts}</dd>
            </div>
          </dl>
          <button
            type="button"
            class="kill"
            disabled={props.busy || pod.terminating || pod.status === "CrashLoopBackOff"}
            aria-label={`Kill pod ${pod.name}`}
            onClick={() => props.onKill(pod)}
          >
            Kill
          </button>
        </li>
      ))}
    </ul>
  );
}

const ROW = 34;

/** Clients on the left, pods on the right, a line for each answer of the last moment. */
export function TrafficFlow(props: {
  clients: readonly ClientView[];
  pods: readonly PodCard[];
  shots: readonly Shot[];
}) {
  const pods = props.pods.filter((p) => !p.terminating || props.shots.some((s) => s.pod === p.name));
  const rows = Math.max(props.clients.length, pods.length, 1);
  const height = rows * ROW + 16;
  const y = (i: number, n: number) => 8 + ((rows - n) * ROW) / 2 + i * ROW + ROW / 2;
  const podY = new Map(pods.map((p, i) => [p.name, y(i, pods.length)]));
  const clientY = new Map(props.clients.map((c, i) => [c.id, y(i, props.clients.length)]));
  const colorOf = new Map(props.clients.map((c) => [c.id, c.color]));
  const live = props.pods.map((p) => p.name);
  return (
    <svg class="flow" viewBox={`0 0 640 ${height}`} role="img" aria-labelledby="flow-title">
      <title id="flow-title">
        Requests of the last moment, each drawn from its client to the pod that answered it
      </title>
      {props.shots.map((s) => {
        const from = clientY.get(s.client);
        const to = s.pod === undefined ? undefined : podY.get(s.pod);
        if (from === undefined || to === undefined) return null;
        return (
          <line
            key={s.key}
            class="shot"
            x1={150}
            y1={from}
            x2={470}
            y2={to}
            stroke={colorOf.get(s.client) ?? "#000"}
            stroke-width={2}
          />
        );
      })}
      {props.clients.map((c) => {
        const cy = clientY.get(c.id) ?? 0;
        return (
          <g key={c.id}>
            <circle cx={150} cy={cy} r={9} fill={c.color} />
            <text x={132} y={cy + 4} text-anchor="end" class="label">
              {c.name} · {c.count ?? "–"}
            </text>
          </g>
        );
      })}
      {pods.map((p) => {
        const cy = podY.get(p.name) ?? 0;
        return (
          <g key={p.name} class={p.terminating ? "gone" : undefined}>
            <rect x={470} y={cy - 12} width={160} height={24} rx={4} fill={podColor(p.name, live)} />
            <text x={478} y={cy + 4} class="pod-label">
              {shortPod(p.name, p.deployment)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function ClientTable(props: { clients: readonly ClientView[]; deployment?: string }) {
  if (props.clients.length === 0) return <p class="muted">No simulated clients yet: start the traffic.</p>;
  return (
    <table class="clients">
      <caption class="sr-only">Simulated clients</caption>
      <thead>
        <tr>
          <th scope="col">Client</th>
          <th scope="col">Last pod</th>
          <th scope="col">Counter</th>
          <th scope="col">Sticky</th>
          <th scope="col">Errors</th>
        </tr>
      </thead>
      <tbody>
        {props.clients.map((c) => (
          <tr
            key={c.id}
            data-client={c.name}
            data-pod={c.pod ?? ""}
            data-sticky={String(c.sticky)}
            title={c.lastError}
          >
            <th scope="row">
              <svg width="10" height="10" viewBox="0 0 10 10" aria-hidden="true">
                <circle cx="5" cy="5" r="5" fill={c.color} />
              </svg>{" "}
              {c.name}
            </th>
            <td>{c.pod ? shortPod(c.pod, props.deployment) : "–"}</td>
            <td>{c.count ?? "–"}</td>
            <td>{c.sticky ? "yes" : "no"}</td>
            <td>{c.errors}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const W = 640;
const H = 160;
const PAD = { l: 36, r: 12, t: 10, b: 20 };

function path(points: readonly [number, number][]): string {
  return points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
}

export function RpsChart(props: { history: readonly HistoryPoint[]; live: readonly string[] }) {
  const { history } = props;
  const names = [...new Set(history.flatMap((p) => Object.keys(p.rps)))];
  const max = Math.max(1, ...history.flatMap((p) => Object.values(p.rps)));
  const top = Math.ceil(max / 5) * 5;
  const x = (i: number) => PAD.l + (i * (W - PAD.l - PAD.r)) / Math.max(1, history.length - 1);
  const yv = (v: number) => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="rps-title">
      <title id="rps-title">Requests per second per pod, last {history.length} seconds</title>
      <Axes top={top} unit="" />
      {names.map((name) => (
        <path
          key={name}
          d={path(history.map((p, i) => [x(i), yv(p.rps[name] ?? 0)]))}
          fill="none"
          stroke={podColor(name, props.live)}
          stroke-width={1.8}
        />
      ))}
    </svg>
  );
}

export function StickyChart(props: { history: readonly HistoryPoint[] }) {
  const { history } = props;
  const x = (i: number) => PAD.l + (i * (W - PAD.l - PAD.r)) / Math.max(1, history.length - 1);
  const yv = (v: number) => H - PAD.b - v * (H - PAD.t - PAD.b);
  // Gaps where no traffic ran are left open rather than drawn as 0 %.
  const segments: [number, number][][] = [];
  let current: [number, number][] = [];
  history.forEach((p, i) => {
    if (p.sticky === undefined) {
      if (current.length > 0) segments.push(current);
      current = [];
    } else current.push([x(i), yv(p.sticky)]);
  });
  if (current.length > 0) segments.push(current);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="sticky-title">
      <title id="sticky-title">Share of sticky clients, last {history.length} seconds</title>
      <Axes top={100} unit="%" />
      {segments.map((s) => (
        <path key={s[0]?.[0]} d={path(s)} fill="none" stroke="#0d47a1" stroke-width={2} />
      ))}
    </svg>
  );
}

function Axes(props: { top: number; unit: string }) {
  const ticks = [0, 0.5, 1];
  return (
    <g class="axes">
      {ticks.map((f) => {
        const y = H - PAD.b - f * (H - PAD.t - PAD.b);
        return (
          <g key={f}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y} y2={y} />
            <text x={PAD.l - 4} y={y + 4} text-anchor="end">
              {Math.round(f * props.top)}
              {props.unit}
            </text>
          </g>
        );
      })}
      <text x={W - PAD.r} y={H - 4} text-anchor="end">
        now
      </text>
    </g>
  );
}

/** Just enough YAML highlighting: comments, keys, quoted strings, numbers and booleans. */
export function Yaml(props: { text: string }) {
  const lines = props.text.split("\n");
  return (
    <pre class="yaml">
      <code>
        {lines.map((line, i) => (
          <span key={i} class="line">
            {highlight(line)}
            {"\n"}
          </span>
        ))}
      </code>
    </pre>
  );
}

function highlight(line: string) {
  if (line === "---") return <span class="y-doc">{line}</span>;
  const comment = /^(\s*)(#.*)$/.exec(line);
  if (comment) return [comment[1], <span class="y-comment">{comment[2]}</span>];
  const m = /^(\s*(?:- )?)([^:#'"]+|"[^"]*"|'[^']*'):(\s*)(.*)$/.exec(line);
  if (!m) return value(line);
  return [m[1], <span class="y-key">{m[2]}</span>, ":", m[3], value(m[4] ?? "")];
}

function value(text: string) {
  if (text === "") return text;
  const lead = /^(\s*(?:- )?)(.*)$/.exec(text);
  const [pre, v] = [lead?.[1] ?? "", lead?.[2] ?? text];
  const cls = /^(["']).*\1$/.test(v)
    ? "y-string"
    : /^-?\d+(\.\d+)?$/.test(v)
      ? "y-number"
      : /^(true|false|null)$/.test(v)
        ? "y-bool"
        : "y-plain";
  return [pre, <span class={cls}>{v}</span>];
}
