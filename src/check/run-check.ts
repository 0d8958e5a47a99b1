import { CookieJar, type JarMode } from "./cookie-jar.js";
import { SimulatedClient } from "./http-client.js";
import type { ClientRecord, Outcome } from "./outcome.js";

export interface Disruption {
  /** How the report names it, e.g. `scale to 6` or the shell command. */
  readonly label: string;
  run(): Promise<void>;
}

export interface CheckOptions {
  readonly url: string;
  readonly clients: number;
  readonly requests: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly jar: JarMode;
  /** Extra request headers; `{client}` in a value becomes the client's number (header-hash setups). */
  readonly headers: Readonly<Record<string, string>>;
  readonly insecure: boolean;
  readonly disruption?: Disruption;
  readonly onProgress?: (done: number, total: number) => void;
}

async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The walkthrough's curl experiment, C clients × R requests. With a disruption, every client first sends
 * half its requests, the disruption runs, then the other half: so "after" means the same thing for all.
 */
export async function runCheck(options: CheckOptions): Promise<ClientRecord[]> {
  const total = options.clients * options.requests;
  let done = 0;
  const clients = Array.from({ length: options.clients }, (_, i) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers))
      headers[name] = value.replaceAll("{client}", String(i + 1));
    return {
      index: i + 1,
      client: new SimulatedClient(new CookieJar(options.jar), {
        timeoutMs: options.timeoutMs,
        insecure: options.insecure,
        headers,
      }),
      outcomes: [] as Outcome[],
    };
  });
  const send = (count: number) =>
    eachBounded(clients, options.concurrency, async (c) => {
      for (let i = 0; i < count; i++) {
        c.outcomes.push(await c.client.get(options.url));
        options.onProgress?.(++done, total);
      }
    });
  try {
    const before = options.disruption ? Math.ceil(options.requests / 2) : options.requests;
    await send(before);
    if (options.disruption) {
      await options.disruption.run();
      await send(options.requests - before);
    }
    return clients.map((c) => ({
      client: c.index,
      outcomes: c.outcomes,
      cookies: c.client.cookieNames(),
      ...(options.disruption ? { disruptedAt: before } : {}),
    }));
  } finally {
    await Promise.all(clients.map((c) => c.client.close()));
  }
}
