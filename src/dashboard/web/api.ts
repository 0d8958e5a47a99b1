/**
 * The page's two channels to the mesh: one EventSource for everything it shows, and JSON POSTs to
 * the same control API the CLI uses (the admin server refuses anything but same-origin JSON).
 */
import { useEffect, useState } from "preact/hooks";
import type { HelloEvent, ManifestsEvent, RequestLine, TickEvent } from "../protocol.js";

/** A request line with the time the page received it, for drawing and fading it. */
export interface Shot extends RequestLine {
  readonly key: number;
  readonly at: number;
}

export interface LiveState {
  readonly connected: boolean;
  /** The page has no token cookie (it was not opened from the address `up` printed). */
  readonly unauthorized?: boolean;
  readonly hello?: HelloEvent;
  readonly manifests?: ManifestsEvent;
  readonly tick?: TickEvent;
  readonly shots: readonly Shot[];
}

const SHOT_MS = 1500;
let shotKey = 0;

export function useLiveState(): LiveState {
  const [state, setState] = useState<LiveState>({ connected: false, shots: [] });
  useEffect(() => {
    const source = new EventSource("/api/v1/events");
    const on = <T>(event: string, apply: (data: T, s: LiveState) => LiveState) =>
      source.addEventListener(event, (e) => {
        const data = JSON.parse((e as MessageEvent<string>).data) as T;
        setState((s) => apply(data, s));
      });
    on<HelloEvent>("hello", (hello, s) => ({ ...s, hello, connected: true }));
    on<ManifestsEvent>("manifests", (manifests, s) => ({ ...s, manifests }));
    on<TickEvent>("tick", (tick, s) => {
      const now = Date.now();
      const fresh = tick.requests.map((r) => ({ ...r, key: shotKey++, at: now }));
      const shots = [...s.shots.filter((x) => now - x.at < SHOT_MS), ...fresh];
      const history = s.hello && tick.point ? [...s.hello.history, tick.point].slice(-90) : s.hello?.history;
      const hello = s.hello && history ? { ...s.hello, history } : s.hello;
      return { ...s, tick, shots, connected: true, ...(hello ? { hello } : {}) };
    });
    source.onerror = () => {
      setState((s) => ({ ...s, connected: false }));
      // An event stream does not say why it failed: ask once whether the token is what is missing.
      void fetch("/api/v1").then((r) => {
        if (r.status !== 401) return;
        source.close();
        setState((s) => ({ ...s, unauthorized: true }));
      });
    };
    return () => source.close();
  }, []);
  return state;
}

export class ApiError extends Error {}

export async function post<T = unknown>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const message = (parsed as { error?: { message?: string } } | undefined)?.error?.message;
    throw new ApiError(message ?? `${path}: HTTP ${response.status}`);
  }
  return parsed as T;
}
