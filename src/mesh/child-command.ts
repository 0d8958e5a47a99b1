/**
 * Commands the mesh starts as child processes (pods, a private redis-server). Each is wrapped in
 * util-linux's `setpriv --pdeathsig SIGKILL` where that exists: setpriv asks the kernel for SIGKILL
 * when its parent dies and then execs the command in place (same pid), so nothing outlives a mesh
 * that was itself SIGKILLed and could not stop its children.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export interface ChildCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/** The executable `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

let probed: { setpriv: string | undefined } | undefined;

/** setpriv when it knows `--pdeathsig` (util-linux 2.33 and later; older ones would refuse it). */
function pdeathsigSetpriv(): string | undefined {
  if (!probed) {
    const setpriv = onPath("setpriv");
    const help = setpriv ? spawnSync(setpriv, ["--help"], { encoding: "utf8", timeout: 2000 }) : undefined;
    probed = { setpriv: help?.stdout?.includes("--pdeathsig") ? setpriv : undefined };
  }
  return probed.setpriv;
}

/** `file args…`, killed by the kernel when this process dies, where setpriv can arrange it. */
export function diesWithParent(file: string, args: readonly string[]): ChildCommand {
  const setpriv = pdeathsigSetpriv();
  return setpriv ? { file: setpriv, args: ["--pdeathsig", "SIGKILL", "--", file, ...args] } : { file, args };
}
