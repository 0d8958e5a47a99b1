/** Reading plain JSON values (parsed manifests) without trusting their shape. */

/** The value at `path` below `value`, or undefined where the path leaves the JSON. */
export function get(value: unknown, ...path: (string | number)[]): unknown {
  let node = value;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
