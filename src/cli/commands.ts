import type { Command } from "./command.js";

/** Subcommands by name, loaded on demand so `serve` does not pay for the linter or the mesh. */
export const commands: Record<string, () => Promise<Command>> = {
  check: async () => (await import("./check.js")).checkCommand,
  serve: async () => (await import("./serve.js")).serveCommand,
  lint: async () => (await import("./lint.js")).lintCommand,
  pick: async () => (await import("./pick.js")).pickCommand,
  simulate: async () => (await import("./simulate.js")).simulateCommand,
};
