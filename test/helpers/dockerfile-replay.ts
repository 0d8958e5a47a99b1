/**
 * Replays a Dockerfile's stages for real without a container engine: each stage is a folder standing
 * for the image's root, COPY brings exactly what the build context (less .dockerignore) or an earlier
 * stage holds, and RUN runs its command in the stage's WORKDIR on this machine.
 *
 * What differs from an engine, on purpose: the base image's Node is this machine's; a RUN's cache mount
 * of npm's cache is this machine's npm cache, read offline (the tests reach no registry); USER, EXPOSE,
 * STOPSIGNAL and CMD are recorded for the caller to check, not enforced.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, posix, relative } from "node:path";
import { promisify } from "node:util";
import dockerignoreModule from "@balena/dockerignore";

const run = promisify(execFile);
// The package is CommonJS with a `default` that is itself: TypeScript sees the namespace, Node the function.
const dockerignore = dockerignoreModule.default;

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export interface Dockerfile {
  readonly args: ReadonlyMap<string, string>;
  readonly stages: Stage[];
}

/** Instructions, one per logical line (backslash continuations joined), comments and blanks dropped. */
export function parseDockerfile(text: string): Dockerfile {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const physical = text.split("\n");
  for (let i = 0; i < physical.length; i++) {
    const start = i;
    let line = (physical[i] ?? "").trim();
    while (line.endsWith("\\") && i + 1 < physical.length)
      line = `${line.slice(0, -1)} ${physical[++i]?.trim()}`;
    if (line === "" || line.startsWith("#")) continue;
    const space = line.search(/\s/);
    const keyword = (space === -1 ? line : line.slice(0, space)).toUpperCase();
    const rest = space === -1 ? "" : line.slice(space).trim();
    if (keyword === "FROM") {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`Dockerfile line ${start + 1}: FROM ${rest} is not understood`);
      const image = (from[1] ?? "").replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? "");
      stages.push({ from: image, name: from[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      const arg = /^(\w+)=(\S+)$/.exec(rest);
      if (keyword !== "ARG" || !arg) throw new Error(`Dockerfile line ${start + 1}: ${keyword} before FROM`);
      args.set(arg[1] as string, arg[2] as string);
      continue;
    }
    stage.instructions.push({ keyword, args: rest, line: start + 1 });
  }
  return { args, stages };
}

/** Every file of the build context that .dockerignore lets through, as context-relative posix paths. */
export async function contextFiles(root: string): Promise<string[]> {
  const ignoreText = await readFile(join(root, ".dockerignore"), "utf8").catch(() => "");
  const ignore = dockerignore({ ignorecase: false }).add(ignoreText);
  // A re-included path (`!pattern`) may sit under an excluded folder; only without one can whole folders be skipped.
  const canPrune = !ignoreText.split("\n").some((l) => l.trim().startsWith("!"));
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!(canPrune && ignore.ignores(path))) await walk(path);
      } else if (!ignore.ignores(path)) {
        out.push(path);
      }
    }
  };
  await walk("");
  return out.sort();
}

export interface ReplayedStage {
  readonly stage: Stage;
  /** The folder standing for the stage image's `/`. */
  readonly root: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
  readonly user: string | undefined;
  readonly cmd: string[] | undefined;
  readonly runs: { command: string; stdout: string; stderr: string }[];
}

export interface ReplayOptions {
  /** The build context (the repository). */
  readonly context: string;
  /** An empty folder; each stage gets a subfolder. */
  readonly into: string;
  /** Environment for RUN commands besides the stage's ENV (PATH, HOME). */
  readonly baseEnv: Record<string, string>;
  /** This machine's npm cache (`npm config get cache`), standing for a cache mount of /root/.npm. */
  readonly npmCache: string;
}

/** Replays every stage in order; a failing RUN rejects with its output. */
export async function replayDockerfile(file: Dockerfile, options: ReplayOptions): Promise<ReplayedStage[]> {
  const context = await contextFiles(options.context);
  const done: ReplayedStage[] = [];
  for (const [index, stage] of file.stages.entries()) {
    const root = join(options.into, stage.name ?? `stage-${index}`);
    await mkdir(root, { recursive: true });
    let workdir = "/";
    const env: Record<string, string> = {};
    let user: string | undefined;
    let cmd: string[] | undefined;
    const runs: ReplayedStage["runs"] = [];
    const inStage = (path: string) => join(root, posix.resolve(workdir, path));
    for (const { keyword, args, line } of stage.instructions) {
      const where = `Dockerfile line ${line}`;
      switch (keyword) {
        case "WORKDIR":
          workdir = posix.resolve(workdir, args);
          await mkdir(inStage("."), { recursive: true });
          break;
        case "ENV": {
          const pair = /^(\w+)=(.*)$/.exec(args);
          if (!pair) throw new Error(`${where}: ENV ${args} is not NAME=value`);
          env[pair[1] as string] = pair[2] as string;
          break;
        }
        case "COPY":
          await copy(args, where, context, options.context, done, inStage);
          break;
        case "RUN":
          runs.push(
            await runStep(args, where, inStage("."), { ...options.baseEnv, ...env }, options.npmCache),
          );
          break;
        case "USER":
          user = args;
          break;
        case "CMD":
          cmd = JSON.parse(args) as string[];
          break;
        case "EXPOSE":
        case "STOPSIGNAL":
          break;
        default:
          throw new Error(`${where}: ${keyword} is not replayed; teach test/helpers/dockerfile-replay.ts`);
      }
    }
    done.push({ stage, root, workdir, env, user, cmd, runs });
  }
  return done;
}

async function copy(
  args: string,
  where: string,
  context: readonly string[],
  contextRoot: string,
  done: readonly ReplayedStage[],
  inStage: (path: string) => string,
): Promise<void> {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith("--"));
  const paths = words.filter((w) => !w.startsWith("--"));
  const dest = paths.pop();
  if (dest === undefined || paths.length === 0)
    throw new Error(`${where}: COPY needs a source and a destination`);
  const fromFlag = flags.find((f) => f.startsWith("--from="));
  const unknown = flags.filter((f) => f !== fromFlag);
  if (unknown.length > 0) throw new Error(`${where}: COPY ${unknown.join(" ")} is not replayed`);
  const intoFolder = dest.endsWith("/") || paths.length > 1;
  if (fromFlag) {
    const name = fromFlag.slice("--from=".length);
    const source = done.find((s) => s.stage.name === name);
    if (!source) throw new Error(`${where}: no earlier stage named ${name}`);
    for (const path of paths) {
      const from = join(source.root, posix.resolve(source.workdir, path));
      await stat(from).catch(() => {
        throw new Error(`${where}: ${path} does not exist in stage ${name}`);
      });
      const to = intoFolder ? join(inStage(dest), posix.basename(path)) : inStage(dest);
      await cp(from, to, { recursive: true });
    }
    return;
  }
  for (const path of paths) {
    const clean = posix.normalize(path).replace(/\/$/, "");
    // A file names itself; a folder brings what the context holds under it, its own name dropped.
    const matched = context.filter((f) => f === clean || f.startsWith(`${clean}/`));
    if (matched.length === 0) throw new Error(`${where}: ${path} is not in the build context`);
    for (const file of matched) {
      const inside = file === clean ? posix.basename(file) : relative(clean, file);
      const to = file === clean && !intoFolder ? inStage(dest) : join(inStage(dest), inside);
      await mkdir(dirname(to), { recursive: true });
      await cp(join(contextRoot, file), to);
    }
  }
}

async function runStep(
  args: string,
  where: string,
  cwd: string,
  env: Record<string, string>,
  npmCache: string,
) {
  let command = args;
  const runEnv = { ...env };
  for (;;) {
    const mount = /^--mount=(\S+)\s+/.exec(command);
    if (!mount) break;
    const fields = new Map((mount[1] ?? "").split(",").map((kv) => kv.split("=", 2) as [string, string]));
    if (fields.get("type") !== "cache" || fields.get("target") !== "/root/.npm") {
      throw new Error(`${where}: only npm's cache mount (type=cache,target=/root/.npm) is replayed`);
    }
    runEnv.npm_config_cache = npmCache;
    runEnv.npm_config_offline = "true";
    command = command.slice(mount[0].length);
  }
  if (command.startsWith("[")) throw new Error(`${where}: exec-form RUN is not replayed`);
  try {
    const { stdout, stderr } = await run("sh", ["-c", command], {
      cwd,
      env: runEnv,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 240_000,
    });
    return { command, stdout, stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    // Offline, npm needs every package's registry entry in its cache, which `npm ci` leaves there.
    const hint = /ENOTCACHED/.test(e.stderr ?? "")
      ? " (npm's cache lacks a package: run `npm ci` first)"
      : "";
    throw new Error(
      `${where}: RUN ${command} failed${hint}: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}
