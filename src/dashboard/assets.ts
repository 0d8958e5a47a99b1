/**
 * The page's files, built by scripts/build-dashboard.mjs into dist/dashboard/public and served by the
 * admin server with a strict Content-Security-Policy: nothing but this origin's own script, style,
 * images and event stream, no inline code, no framing.
 */
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Request path → file in the public folder; nothing else is reachable. */
const ROUTES: Readonly<Record<string, string>> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/dashboard.js": "dashboard.js",
  "/dashboard.css": "dashboard.css",
  "/favicon.svg": "favicon.svg",
};

/** dist/dashboard/public: next to this module when built, under dist/ when run from src/ by tsx. */
export function publicDir(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith(".ts")
    ? join(dirname(here), "..", "..", "dist", "dashboard", "public")
    : join(dirname(here), "public");
}

export class Assets {
  readonly #dir: string;
  readonly #cache = new Map<string, Buffer>();

  constructor(dir = publicDir()) {
    this.#dir = dir;
  }

  handles(path: string): boolean {
    return path in ROUTES;
  }

  async serve(path: string, res: ServerResponse, head: boolean): Promise<void> {
    const file = ROUTES[path] as string;
    let body = this.#cache.get(file);
    if (!body) {
      try {
        body = await readFile(join(this.#dir, file));
      } catch {
        const text = "The dashboard is not built: run `npm run build`.\n";
        res.writeHead(503, {
          ...SECURITY_HEADERS,
          "content-type": "text/plain; charset=utf-8",
          "content-length": Buffer.byteLength(text),
        });
        res.end(head ? undefined : text);
        return;
      }
      // A built file does not change while the mesh runs; from src/ a rebuild should show up.
      if (!fileURLToPath(import.meta.url).endsWith(".ts")) this.#cache.set(file, body);
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": body.length,
      "cache-control": "no-cache",
    });
    res.end(head ? undefined : body);
  }
}
