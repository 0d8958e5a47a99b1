/**
 * The dashboard in a real Chromium (Debian's, driven by playwright-core; no browser is downloaded):
 * five pods without a rule, simulated clients scattering over them, one click on the cookie rule, and
 * every client's colour settling on one pod. The screenshot goes to test-output/.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type Browser, chromium, type Page } from "playwright-core";
import { DEPLOY, ROOT, startTestMesh, type TestMesh } from "../helpers/mesh.js";

// Page functions run in Chromium; this file is typechecked without the DOM library.
interface PageElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
};

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;
const CLIENTS = 6;

async function clientRows(page: Page): Promise<{ name: string; pod: string; sticky: boolean }[]> {
  return page.$$eval("table.clients tbody tr", (rows) =>
    rows.map((r) => ({
      name: r.getAttribute("data-client") ?? "",
      pod: r.getAttribute("data-pod") ?? "",
      sticky: r.getAttribute("data-sticky") === "true",
    })),
  );
}

describe("dashboard in Chromium", { skip, timeout: 240_000 }, () => {
  let mesh: TestMesh;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    await promisify(execFile)(process.execPath, [join(ROOT, "scripts", "build-dashboard.mjs")], {
      timeout: 60_000,
    });
    mesh = await startTestMesh(undefined, {
      manifests: [join(DEPLOY, "session.yaml"), join(DEPLOY, "session-gateway.yaml")],
      replicas: 5,
      // Pods start slowly on a busy machine (each compiles the service under tsx).
      readyTimeoutMs: 90_000,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      timeout: 30_000,
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.setDefaultTimeout(45_000);
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await mesh?.stop();
  });

  it("shows the five pods and no rule", async () => {
    await page.goto(mesh.mesh.admin.dashboardUrl);
    await page.waitForFunction(() => document.querySelectorAll(".pods li.pod.ready").length === 5);
    await page.waitForSelector('[data-policy="none"]');
    assert.equal(await page.getByRole("button", { name: "No rule" }).getAttribute("aria-pressed"), "true");
  });

  it("scatters the clients without affinity", async () => {
    await page.getByRole("spinbutton", { name: "Clients" }).fill(String(CLIENTS));
    await page.getByRole("button", { name: "Start traffic" }).click();
    await page.waitForFunction((n) => {
      const rows = [...document.querySelectorAll("table.clients tbody tr")];
      // The sticky share appears once clients have had enough answers to be judged.
      return (
        rows.length === n &&
        rows.every((r) => r.getAttribute("data-pod")) &&
        document.querySelector(".traffic h2")?.textContent?.includes("%")
      );
    }, CLIENTS);
    await page.waitForTimeout(2500);
    const rows = await clientRows(page);
    assert.equal(rows.length, CLIENTS);
    assert.ok(
      rows.some((r) => !r.sticky),
      `least request should not pin every client: ${JSON.stringify(rows)}`,
    );
  });

  it("pins every client to one pod once the cookie rule is applied by a click", async () => {
    await page.getByRole("button", { name: "Cookie · ring hash" }).click();
    await page.waitForSelector('[data-policy="ring-hash"]');
    await page.waitForFunction(
      () => document.querySelector('button[aria-pressed="true"]')?.textContent === "Cookie · ring hash",
    );
    await page.waitForFunction((n) => {
      const rows = [...document.querySelectorAll("table.clients tbody tr")];
      return rows.length === n && rows.every((r) => r.getAttribute("data-sticky") === "true");
    }, CLIENTS);
    const settled = await clientRows(page);
    await page.waitForTimeout(2000);
    const later = await clientRows(page);
    assert.deepEqual(
      later.map((r) => [r.name, r.pod]),
      settled.map((r) => [r.name, r.pod]),
      "each client stays on its pod",
    );
    assert.ok(later.every((r) => r.sticky));
    await page.waitForFunction(() => document.querySelector(".traffic h2")?.textContent?.includes("100 %"));
    await mkdir(join(ROOT, "test-output"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test-output", "dashboard.png"), fullPage: true });
  });

  it("scales up by a click and keeps the page free of errors", async () => {
    await page.getByRole("button", { name: "Scale up by one" }).click();
    await page.waitForFunction(() => document.querySelectorAll(".pods li.pod.ready").length === 6);
    await page.getByRole("button", { name: "Stop traffic" }).click();
    await page.getByRole("button", { name: "Start traffic" }).waitFor();
    assert.deepEqual(problems, []);
  });
});
