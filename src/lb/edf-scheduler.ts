/**
 * Earliest-deadline-first schedule, Envoy's weighted round robin (source/common/upstream/
 * edf_scheduler.h): an entry added with weight w at time t gets deadline t + 1/w; a pick takes the
 * earliest deadline (ties: first inserted), moves time to it and re-adds the entry with its weight
 * recomputed at that moment.
 *
 * Balancers build theirs with {@link EdfScheduler.createWithPicks}, as Envoy's EdfLoadBalancerBase
 * does on every host update: the schedule starts as if `seed` picks had already been made, so the
 * first pick after a rebuild is spread over the hosts by weight instead of always the heaviest one.
 */

interface Slot {
  deadline: number;
  order: number;
  item: number;
}

/** Envoy takes the seed's low 32 bits modulo this (⌊(2^32 − 1) / 10⌋) as the number of picks. */
const PICKS_MODULUS = 429496729n;
/**
 * Added to every weight while the initial deadlines are worked out (and only then), as Envoy does; it
 * decides ties between equal weights in the first round exactly as Envoy's schedule does.
 */
const WEIGHT_EPSILON = 1e-13;

export class EdfScheduler {
  readonly #heap: Slot[] = [];
  #time = 0;
  #order = 0;

  /**
   * The schedule of items `0 … count − 1` as it stands after `(seed mod 2^32) mod 429496729` picks,
   * computed in O(count log count) rather than by making the picks: each item's share of the picks is
   * worked out from its weight, the few picks that rounding leaves over are then made for real.
   */
  static createWithPicks(count: number, weightOf: (item: number) => number, seed: bigint): EdfScheduler {
    const scheduler = new EdfScheduler();
    const picks = Number(BigInt.asUintN(32, seed) % PICKS_MODULUS);
    if (count === 0) return scheduler;
    const weights = Array.from({ length: count }, (_, item) => weightOf(item) + WEIGHT_EPSILON);
    let total = 0;
    for (const w of weights) total += w;
    let time = 0;
    let made = 0;
    for (let item = 0; item < count; item++) {
      const w = weights[item] as number;
      let picked = Math.trunc((w * picks) / total);
      // Floating point can put the last of an item's picks at or past the time all picks are done.
      if (picked > 0 && picked / w >= picks / total) picked--;
      scheduler.#push({ deadline: (picked + 1) / w, order: item, item });
      time = Math.max(time, picked / w);
      made += picked;
    }
    scheduler.#time = time;
    scheduler.#order = count;
    for (; made < picks; made++) scheduler.pickAndAdd(weightOf);
    return scheduler;
  }

  add(item: number, weight: number): void {
    this.#push({ deadline: this.#time + 1 / weight, order: this.#order++, item });
  }

  /** Picks the next item and re-adds it with `weightOf(item)`. */
  pickAndAdd(weightOf: (item: number) => number): number | undefined {
    const top = this.#pop();
    if (!top) return undefined;
    this.#time = top.deadline;
    this.add(top.item, weightOf(top.item));
    return top.item;
  }

  /** The items waiting, in the order they would be picked were none re-added, with their deadlines. */
  queue(): { item: number; deadline: number }[] {
    return [...this.#heap]
      .sort((a, b) => (this.#less(a, b) ? -1 : 1))
      .map(({ item, deadline }) => ({ item, deadline }));
  }

  #less(a: Slot, b: Slot): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
  }

  #push(slot: Slot): void {
    const heap = this.#heap;
    heap.push(slot);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i] as Slot, heap[parent] as Slot)) break;
      [heap[i], heap[parent]] = [heap[parent] as Slot, heap[i] as Slot];
      i = parent;
    }
  }

  #pop(): Slot | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < heap.length && this.#less(heap[l] as Slot, heap[best] as Slot)) best = l;
      if (r < heap.length && this.#less(heap[r] as Slot, heap[best] as Slot)) best = r;
      if (best === i) break;
      [heap[i], heap[best]] = [heap[best] as Slot, heap[i] as Slot];
      i = best;
    }
    return top;
  }
}
