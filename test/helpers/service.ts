import type { TestContext } from "node:test";
import { loadConfig } from "../../src/app/config.js";
import { type RunningService, startService } from "../../src/app/server.js";

/** Starts the service in this process on a free loopback port, and shuts it down after the test. */
export async function startTestService(
  t: TestContext,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    POD_NAME: "pod-under-test",
    ...env,
  });
  const service = await startService(config);
  t.after(() => service.shutdown());
  return service;
}

/** A minimal cookie jar for one cookie, as `curl -c jar -b jar` keeps it. */
export class CookieJar {
  #cookie: string | undefined;

  header(): Record<string, string> {
    return this.#cookie ? { cookie: this.#cookie } : {};
  }

  store(response: Response): void {
    const set = response.headers.getSetCookie();
    for (const line of set) this.#cookie = line.split(";")[0];
  }

  get value(): string | undefined {
    return this.#cookie;
  }
}
