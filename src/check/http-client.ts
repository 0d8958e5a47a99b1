import { Agent, getSetCookies, Headers, request } from "undici";
import { parseAnswer } from "./answer.js";
import type { CookieJar } from "./cookie-jar.js";
import { classifyError, type Outcome } from "./outcome.js";

export interface ClientOptions {
  timeoutMs: number;
  insecure: boolean;
  headers: Readonly<Record<string, string>>;
}

/**
 * One simulated user: its own keep-alive connection and cookie jar, one request at a time, as a
 * browser tab (or a curl loop with a jar) would send them.
 */
export class SimulatedClient {
  readonly #agent: Agent;
  readonly #jar: CookieJar;
  readonly #options: ClientOptions;

  constructor(jar: CookieJar, options: ClientOptions) {
    this.#jar = jar;
    this.#options = options;
    this.#agent = new Agent({
      connections: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs, rejectUnauthorized: !options.insecure },
    });
  }

  async get(url: string): Promise<Outcome> {
    const cookie = this.#jar.header();
    try {
      const response = await request(url, {
        dispatcher: this.#agent,
        method: "GET",
        headers: { ...this.#options.headers, ...(cookie ? { cookie } : {}) },
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      const body = await response.body.text();
      const setCookie = response.headers["set-cookie"];
      const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
      const headers = new Headers();
      for (const line of lines) headers.append("set-cookie", line);
      this.#jar.receive(getSetCookies(headers));
      if (response.statusCode < 200 || response.statusCode > 299) {
        return { ok: false, kind: "status", detail: `HTTP ${response.statusCode}` };
      }
      const answer = parseAnswer(body);
      if (!answer) return { ok: false, kind: "unparsable", detail: body.slice(0, 80) };
      return { ok: true, hostname: answer.hostname, count: answer.count };
    } catch (err) {
      return { ok: false, ...classifyError(err) };
    }
  }

  cookieNames(): string[] {
    return this.#jar.names();
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}
