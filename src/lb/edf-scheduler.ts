/**
 * Earliest-deadline-first schedule, Envoy's weighted round robin (source/common/upstream/
 * edf_scheduler.h): an entry added with weight w at time t gets deadline t + 1/w; a pick takes the
 * earliest deadline (ties: first inserted), moves time to it and re-adds the entry with its weight
 * recomputed at that moment.
 */

interface Slot {
  deadline: number;
  order: number;
  item: number;
}

export class EdfScheduler {
  readonly #heap: Slot[] = [];
  #time = 0;
  #order = 0;

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
