/**
 * The Go library behaviour istioctl's `proxy-config` output depends on, reproduced so its tables and
 * JSON match byte for byte: text/tabwriter's column layout (go/src/text/tabwriter/tabwriter.go),
 * sort.Slice's pattern-defeating quicksort (go/src/sort/zsortfunc.go, sort.go; it is unstable, so
 * the order of rows that compare equal is part of the output), Go's byte-wise string order,
 * strconv.Atoi, strings.EqualFold and encoding/json's indented, HTML-escaped output.
 */

/** text/tabwriter with padchar ' ' and no flags, the way every istioctl table writer sets it up. */
export interface TabwriterSettings {
  readonly minwidth: number;
  readonly padding: number;
}

/** Go counts a cell's width in runes (code points), not bytes or UTF-16 units. */
function runeCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * Formats text as a tabwriter.Writer given it in one Write and then Flushed: cells end at '\t' (or
 * '\v'), lines at '\n' (or '\f'); the text after a line's last tab is not part of any column, and a
 * line without a tab ends every column block above it (the writer flushes there).
 */
export function tabwrite(text: string, settings: TabwriterSettings): string {
  let out = "";
  let lines: string[][] = [[]];
  let cell = "";
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i] ?? [];
      line.forEach((c, j) => {
        out += c;
        const width = widths[j];
        if (width !== undefined) out += " ".repeat(Math.max(0, width - runeCount(c)));
      });
      // The last buffered line is the one after the final newline: nothing of it is written yet.
      if (i + 1 < lines.length) out += "\n";
    }
  };

  const format = (first: number, line1: number) => {
    let line0 = first;
    const column = widths.length;
    for (let row = line0; row < line1; row++) {
      if (column >= (lines[row]?.length ?? 0) - 1) continue;
      writeLines(line0, row);
      line0 = row;
      let width = settings.minwidth;
      for (; row < line1; row++) {
        const line = lines[row] ?? [];
        if (column >= line.length - 1) break;
        width = Math.max(width, runeCount(line[column] ?? "") + settings.padding);
      }
      widths.push(width);
      format(line0, row);
      widths.pop();
      line0 = row;
    }
    writeLines(line0, line1);
  };

  const flush = () => {
    format(0, lines.length);
    lines = [[]];
    cell = "";
  };

  for (const ch of text) {
    const line = lines[lines.length - 1] ?? [];
    if (ch === "\t" || ch === "\v") {
      line.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\f") {
      line.push(cell);
      cell = "";
      lines.push([]);
      if (ch === "\f" || line.length === 1) flush();
    } else {
      cell += ch;
    }
  }
  if (cell !== "") {
    lines[lines.length - 1]?.push(cell);
    cell = "";
  }
  flush();
  return out;
}

/** Go's `<` on strings: UTF-8 byte order, i.e. code point order (UTF-16 order differs above U+FFFF). */
export function goLess(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // A surrogate stands for a code point above every BMP character it can meet here.
    if (xs !== ys) return ys;
    return x < y;
  }
  return a.length < b.length;
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/**
 * strconv.Atoi on a 64-bit platform: decimal digits with an optional sign. A syntax error yields 0,
 * an out-of-range value the nearest int64 (as Go returns it alongside the error); ok is false for both.
 */
export function goAtoi(text: string): { readonly value: bigint; readonly ok: boolean } {
  if (!/^[+-]?[0-9]+$/.test(text)) return { value: 0n, ok: false };
  const value = BigInt(text);
  if (value > INT64_MAX) return { value: INT64_MAX, ok: false };
  if (value < INT64_MIN) return { value: INT64_MIN, ok: false };
  return { value, ok: true };
}

/** strings.EqualFold, close enough for the ASCII names, addresses and statuses it compares here. */
export function equalFold(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase();
}

/**
 * json.MarshalIndent(value, "", "    "): JSON.stringify's layout, plus encoding/json's escaping of
 * <, >, & and U+2028/U+2029, which can only occur inside strings.
 */
export function goJsonIndent(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** math/bits.Len: the number of bits needed to write n. */
function bitsLen(n: number): number {
  return n <= 0 ? 0 : Math.floor(Math.log2(n)) + 1;
}

type Less = (i: number, j: number) => boolean;
type Swap = (i: number, j: number) => void;

/**
 * sort.Slice(items, less), in place, with Go's exact sequence of comparisons and swaps, so that
 * elements less() calls equal (or a less() that is not a strict weak order, as istioctl's route
 * sort is) end up where Go puts them.
 */
export function goSortSlice<T>(items: T[], less: (a: T, b: T) => boolean): void {
  const cmp: Less = (i, j) => less(items[i] as T, items[j] as T);
  const swap: Swap = (i, j) => {
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  };
  pdqsort(cmp, swap, 0, items.length, bitsLen(items.length));
}

function insertionSort(less: Less, swap: Swap, a: number, b: number): void {
  for (let i = a + 1; i < b; i++) for (let j = i; j > a && less(j, j - 1); j--) swap(j, j - 1);
}

function siftDown(less: Less, swap: Swap, lo: number, hi: number, first: number): void {
  let root = lo;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= hi) return;
    if (child + 1 < hi && less(first + child, first + child + 1)) child++;
    if (!less(first + root, first + child)) return;
    swap(first + root, first + child);
    root = child;
  }
}

function heapSort(less: Less, swap: Swap, a: number, b: number): void {
  const hi = b - a;
  for (let i = Math.trunc((hi - 1) / 2); i >= 0; i--) siftDown(less, swap, i, hi, a);
  for (let i = hi - 1; i >= 0; i--) {
    swap(a, a + i);
    siftDown(less, swap, 0, i, a);
  }
}

const UNKNOWN_HINT = 0;
const INCREASING_HINT = 1;
const DECREASING_HINT = 2;

function pdqsort(less: Less, swap: Swap, start: number, end: number, badPivots: number): void {
  let [a, b, limit] = [start, end, badPivots];
  let wasBalanced = true;
  let wasPartitioned = true;
  for (;;) {
    const length = b - a;
    if (length <= 12) {
      insertionSort(less, swap, a, b);
      return;
    }
    if (limit === 0) {
      heapSort(less, swap, a, b);
      return;
    }
    if (!wasBalanced) {
      breakPatterns(swap, a, b);
      limit--;
    }
    let [pivot, hint] = choosePivot(less, a, b);
    if (hint === DECREASING_HINT) {
      for (let i = a, j = b - 1; i < j; i++, j--) swap(i, j);
      pivot = b - 1 - (pivot - a);
      hint = INCREASING_HINT;
    }
    if (wasBalanced && wasPartitioned && hint === INCREASING_HINT && partialInsertionSort(less, swap, a, b))
      return;
    if (a > 0 && !less(a - 1, pivot)) {
      a = partitionEqual(less, swap, a, b, pivot);
      continue;
    }
    const [mid, alreadyPartitioned] = partition(less, swap, a, b, pivot);
    wasPartitioned = alreadyPartitioned;
    const leftLen = mid - a;
    const rightLen = b - mid;
    const balanceThreshold = Math.trunc(length / 8);
    if (leftLen < rightLen) {
      wasBalanced = leftLen >= balanceThreshold;
      pdqsort(less, swap, a, mid, limit);
      a = mid + 1;
    } else {
      wasBalanced = rightLen >= balanceThreshold;
      pdqsort(less, swap, mid + 1, b, limit);
      b = mid;
    }
  }
}

function partition(less: Less, swap: Swap, a: number, b: number, pivot: number): [number, boolean] {
  swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  while (i <= j && less(i, a)) i++;
  while (i <= j && !less(j, a)) j--;
  if (i > j) {
    swap(j, a);
    return [j, true];
  }
  swap(i, j);
  i++;
  j--;
  for (;;) {
    while (i <= j && less(i, a)) i++;
    while (i <= j && !less(j, a)) j--;
    if (i > j) break;
    swap(i, j);
    i++;
    j--;
  }
  swap(j, a);
  return [j, false];
}

function partitionEqual(less: Less, swap: Swap, a: number, b: number, pivot: number): number {
  swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  for (;;) {
    while (i <= j && !less(a, i)) i++;
    while (i <= j && less(a, j)) j--;
    if (i > j) break;
    swap(i, j);
    i++;
    j--;
  }
  return i;
}

function partialInsertionSort(less: Less, swap: Swap, a: number, b: number): boolean {
  let i = a + 1;
  for (let step = 0; step < 5; step++) {
    while (i < b && !less(i, i - 1)) i++;
    if (i === b) return true;
    if (b - a < 50) return false;
    swap(i, i - 1);
    if (i - a >= 2) {
      for (let j = i - 1; j >= 1; j--) {
        if (!less(j, j - 1)) break;
        swap(j, j - 1);
      }
    }
    if (b - i >= 2) {
      for (let j = i + 1; j < b; j++) {
        if (!less(j, j - 1)) break;
        swap(j, j - 1);
      }
    }
  }
  return false;
}

const UINT64 = (1n << 64n) - 1n;

function breakPatterns(swap: Swap, a: number, b: number): void {
  const length = b - a;
  if (length < 8) return;
  // Go's xorshift seeded with the length: deterministic, so reproducible.
  let random = BigInt(length);
  const modulus = BigInt(2 ** bitsLen(length));
  const start = a + Math.trunc(length / 4) * 2 - 1;
  for (let idx = start; idx <= start + 2; idx++) {
    random ^= (random << 13n) & UINT64;
    random ^= random >> 7n;
    random ^= (random << 17n) & UINT64;
    let other = Number(random & (modulus - 1n));
    if (other >= length) other -= length;
    swap(idx, a + other);
  }
}

function choosePivot(less: Less, a: number, b: number): [number, number] {
  const l = b - a;
  const swaps = { n: 0 };
  const quarter = Math.trunc(l / 4);
  let i = a + quarter;
  let j = a + quarter * 2;
  let k = a + quarter * 3;
  if (l >= 8) {
    if (l >= 50) {
      i = median(less, i - 1, i, i + 1, swaps);
      j = median(less, j - 1, j, j + 1, swaps);
      k = median(less, k - 1, k, k + 1, swaps);
    }
    j = median(less, i, j, k, swaps);
  }
  if (swaps.n === 0) return [j, INCREASING_HINT];
  if (swaps.n === 12) return [j, DECREASING_HINT];
  return [j, UNKNOWN_HINT];
}

/** Go's median_func: three order2 steps, counting swaps; only the middle index is returned. */
function median(less: Less, x: number, y: number, z: number, swaps: { n: number }): number {
  let a = x;
  let b = y;
  if (less(b, a)) {
    swaps.n++;
    [a, b] = [b, a];
  }
  if (less(z, b)) {
    swaps.n++;
    b = z;
  }
  if (less(b, a)) {
    swaps.n++;
    b = a;
  }
  return b;
}
