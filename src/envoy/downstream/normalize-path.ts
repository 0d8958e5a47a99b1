/**
 * Envoy's `normalize_path`, which istiod turns on for every listener (MeshConfig `pathNormalization`
 * BASE, its default): the path before `?` is canonicalized as Chromium's URL canonicalizer does, and
 * routing, hashing and the upstream all see the result. The query is kept as sent.
 *
 * - Dot segments go, `.` and `%2E`/`%2e` alike; `..` never climbs above the root.
 * - A literal `\` is a `/`.
 * - An escape of an unreserved character (letters, digits, `-`, `_`, `~`) is decoded, as is `%2E`;
 *   every other valid escape is kept exactly, hex case included (`%2f` stays `%2f`); an invalid one
 *   (`%zz`) passes through. Decoding never makes a new escape out of an invalid one: in `%%32%65`
 *   the first `%` becomes `%25`, so the result is `%252e`, not `%2e`.
 * - Characters a URL path cannot hold literally (space, `"`, `<`, `>`, `` ` ``, `{`, `|`, `}`, `^`,
 *   controls, bytes ≥ 0x80) are escaped with uppercase hex.
 * - A NUL, literal or escaped, makes the path invalid, as does a `#` (Envoy rejects fragments): both
 *   are answered 400.
 *
 * Not done: merging slashes and unescaping `%2F` (Istio's MERGE_SLASHES and DECODE_AND_MERGE_SLASHES
 * settings, which are not the default).
 */

const UNRESERVED = /^[A-Za-z0-9\-_~]$/;

/** Characters the canonicalizer escapes when they appear literally in a path. */
function mustEscape(code: number): boolean {
  return (
    code <= 0x20 ||
    code >= 0x7f ||
    code === 0x22 /* " */ ||
    code === 0x3c /* < */ ||
    code === 0x3e /* > */ ||
    code === 0x60 /* ` */ ||
    code === 0x7b /* { */ ||
    code === 0x7c /* | */ ||
    code === 0x7d /* } */ ||
    code === 0x5e /* ^ */
  );
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** The length of a dot at `i` (`.` is 1, `%2E` is 3), or 0. */
function dotAt(path: string, i: number): number {
  if (path[i] === ".") return 1;
  if (path[i] === "%" && path[i + 1] === "2" && (path[i + 2] === "e" || path[i + 2] === "E")) return 3;
  return 0;
}

function isSlash(ch: string | undefined): boolean {
  return ch === "/" || ch === "\\";
}

/**
 * What a dot segment starting at `i` (just after a slash) is: `.`, `..`, or a name that starts with
 * a dot; and how many characters it takes, including a trailing slash.
 */
function dotSegment(path: string, i: number): { kind: "current" | "up" | "name"; length: number } {
  const first = dotAt(path, i);
  const afterFirst = i + first;
  if (afterFirst === path.length) return { kind: "current", length: first };
  if (isSlash(path[afterFirst])) return { kind: "current", length: first + 1 };
  const second = dotAt(path, afterFirst);
  if (second > 0) {
    const afterSecond = afterFirst + second;
    if (afterSecond === path.length) return { kind: "up", length: first + second };
    if (isSlash(path[afterSecond])) return { kind: "up", length: first + second + 1 };
  }
  return { kind: "name", length: 0 };
}

const ESCAPE = /^%[0-9A-Fa-f]{2}$/;

/**
 * After an unescaped character landed within two characters of a `%` that began no valid escape:
 * if that `%` now begins one (with the next input character when only one follows it), it is
 * rewritten to `%25`, as the URL canonicalizer's nested-escape check does.
 */
function unnest(out: string, invalidAt: number, path: string, next: number): string {
  const appendNext = invalidAt === out.length - 2;
  let candidate = out.slice(invalidAt);
  if (appendNext) {
    if (next >= path.length || path.charCodeAt(next) >= 0x80) return out;
    candidate += path[next];
  }
  return ESCAPE.test(candidate) ? `${out.slice(0, invalidAt)}%25${out.slice(invalidAt + 1)}` : out;
}

/** The canonical path; undefined when Envoy would answer 400. Only origin-form targets (`/…`) change. */
export function normalizePath(target: string): string | undefined {
  if (target.includes("#")) return undefined;
  if (!target.startsWith("/")) return target;
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? "" : target.slice(q);
  // Fast path: most paths have nothing to canonicalize.
  if (!/[%\\.]|[^\x21-\x7e]|["<>`{|}^]/.test(path)) return target;

  let out = "";
  /** Where in `out` the last `%` that began no valid escape is. */
  let invalidAt = Number.NEGATIVE_INFINITY;
  let i = 0;
  while (i < path.length) {
    const ch = path[i] as string;
    if (out.endsWith("/") && dotAt(path, i) > 0) {
      const segment = dotSegment(path, i);
      if (segment.kind === "current") {
        i += segment.length;
        continue;
      }
      if (segment.kind === "up") {
        // Back to the slash before the last segment; the root's slash stays.
        const previous = out.lastIndexOf("/", out.length - 2);
        out = previous < 0 ? "/" : out.slice(0, previous + 1);
        i += segment.length;
        continue;
      }
    }
    if (dotAt(path, i) === 3) {
      out += ".";
      i += 3;
      continue;
    }
    if (ch === "\\") {
      out += "/";
      i++;
      continue;
    }
    if (ch === "%") {
      const high = hexValue(path.charCodeAt(i + 1));
      const low = high < 0 ? -1 : hexValue(path.charCodeAt(i + 2));
      if (low < 0) {
        invalidAt = out.length;
        out += "%";
        i++;
        continue;
      }
      const value = high * 16 + low;
      if (value === 0) return undefined;
      const decoded = String.fromCharCode(value);
      i += 3;
      if (UNRESERVED.test(decoded)) {
        out += decoded;
        if (invalidAt >= out.length - 3) out = unnest(out, invalidAt, path, i);
      } else out += path.slice(i - 3, i);
      continue;
    }
    const code = path.charCodeAt(i);
    if (code === 0) return undefined;
    out += mustEscape(code) ? `%${(code & 0xff).toString(16).toUpperCase().padStart(2, "0")}` : ch;
    i++;
  }
  return out + query;
}
