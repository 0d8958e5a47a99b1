/**
 * Measurements of the reliability suite. Each scenario appends one JSON line to the file named by
 * RELIABILITY_RECORD (nothing when unset), and the report script renders RELIABILITY.md from them,
 * so the report only ever shows figures from the run that wrote it.
 */
import { appendFileSync } from "node:fs";
import { CookieJar, gatewayGet, type RequestOptions, type UserResponse } from "./mesh.js";

export interface Measurement {
  /** Report section: load, faults, hostile. */
  readonly group: "load" | "faults" | "hostile";
  readonly scenario: string;
  /** What was held: clients, concurrency, duration, requests. */
  readonly load: string;
  readonly faults: string;
  /** Hostile inputs tried; 0 when the scenario sends only well-formed requests. */
  readonly badInputs: number;
  readonly requests: number;
  readonly failed: number;
  /** Sessions whose counter was lost or went backwards (for memory-store pod loss: expected resets). */
  readonly sessionsLost: number;
  readonly notes?: string;
}

export function record(m: Measurement): void {
  const file = process.env.RELIABILITY_RECORD;
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ ...m, at: new Date().toISOString() })}\n`);
}

/**
 * One client session through the gateway: its jar, every 200's counter in order, and its failures.
 * A session is sequential (one request at a time), so its counters must rise by exactly one.
 */
export class TrackedSession {
  readonly jar = new CookieJar();
  readonly counts: number[] = [];
  readonly failures: UserResponse[] = [];
  errors = 0;
  /** Why requests threw (the fetch error's cause), for the report. */
  readonly errorCauses: string[] = [];

  constructor(readonly baseUrl: string) {}

  async get(options: RequestOptions = {}): Promise<UserResponse | undefined> {
    try {
      const r = await gatewayGet(this.baseUrl, "/user", { jar: this.jar, ...options });
      if (r.status === 200 && r.count !== undefined) this.counts.push(r.count);
      else this.failures.push(r);
      return r;
    } catch (err) {
      this.errors++;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      this.errorCauses.push(cause?.code ?? cause?.message ?? String(err));
      return undefined;
    }
  }

  get ok(): number {
    return this.counts.length;
  }

  get last(): number | undefined {
    return this.counts.at(-1);
  }

  /** Places where the counter did not rise by one: [previous, next]. */
  jumps(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 1; i < this.counts.length; i++) {
      const a = this.counts[i - 1] as number;
      const b = this.counts[i] as number;
      if (b !== a + 1) out.push([a, b]);
    }
    return out;
  }
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
