import type { Command } from "./command.js";

/** Subcommands by name, loaded on demand so `serve` does not pay for the linter or the mesh. */
export const commands: Record<string, () => Promise<Command>> = {
  check: async () => (await import("./check.js")).checkCommand,
  scenarios: async () => (await import("./scenarios.js")).scenariosCommand,
  serve: async () => (await import("./serve.js")).serveCommand,
  lint: async () => (await import("./lint.js")).lintCommand,
  pick: async () => (await import("./pick.js")).pickCommand,
  simulate: async () => (await import("./simulate.js")).simulateCommand,
  up: async () => (await import("./up.js")).upCommand,
  apply: async () => (await import("./apply.js")).applyCommand,
  delete: async () => (await import("./delete.js")).deleteCommand,
  get: async () => (await import("./get.js")).getCommand,
  scale: async () => (await import("./scale.js")).scaleCommand,
  rollout: async () => (await import("./rollout.js")).rolloutCommand,
  "proxy-config": async () => (await import("./proxy-config.js")).proxyConfigCommand,
  explain: async () => (await import("./explain.js")).explainCommand,
};
