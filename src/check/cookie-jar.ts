/** A cookie as a Set-Cookie line describes it, reduced to what a single-host client needs. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  /** Seconds; 0 or less deletes the cookie. */
  readonly maxAge?: number;
}

/**
 * How a simulated client keeps cookies. `browser`: every Set-Cookie updates the jar, as a browser (or
 * `curl -c jar -b jar`) does. `frozen`: cookies are saved from the first response only and then only
 * sent, as the walkthrough's `curl -c cookie` then `curl -b cookie` does.
 */
export type JarMode = "browser" | "frozen";

export class CookieJar {
  readonly #mode: JarMode;
  readonly #cookies = new Map<string, string>();
  #responses = 0;

  constructor(mode: JarMode) {
    this.#mode = mode;
  }

  /** The Cookie header to send, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  receive(cookies: readonly SetCookie[]): void {
    this.#responses++;
    if (this.#mode === "frozen" && this.#responses > 1) return;
    for (const cookie of cookies) {
      if (cookie.maxAge !== undefined && cookie.maxAge <= 0) this.#cookies.delete(cookie.name);
      else this.#cookies.set(cookie.name, cookie.value);
    }
  }

  names(): string[] {
    return [...this.#cookies.keys()];
  }
}
