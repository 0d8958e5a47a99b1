#!/usr/bin/env node
// Builds the dashboard page into dist/dashboard/public: one bundled, minified script (Preact
// included, so nothing is fetched from elsewhere), its stylesheet, the HTML shell and the icon.
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "src", "dashboard", "web");
const out = join(root, "dist", "dashboard", "public");

await mkdir(out, { recursive: true });
const common = { bundle: true, minify: true, legalComments: "none", logLevel: "warning" };
await build({
  ...common,
  entryPoints: [join(web, "main.tsx")],
  outfile: join(out, "dashboard.js"),
  format: "esm",
  target: ["chrome110", "firefox110", "safari16"],
  jsx: "automatic",
  jsxImportSource: "preact",
});
await build({ ...common, entryPoints: [join(web, "dashboard.css")], outfile: join(out, "dashboard.css") });
for (const file of ["index.html", "favicon.svg"]) await copyFile(join(web, file), join(out, file));
