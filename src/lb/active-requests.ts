/**
 * The books: active requests per endpoint address (Envoy's `rq_active` host stat). One instance is
 * shared by every balancer of a cluster, so rebuilding a balancer on an endpoint change keeps the
 * counts. The caller calls `begin` when it sends a request upstream and `end` when it completes.
 */
export class ActiveRequests {
  readonly #counts = new Map<string, number>();

  get(address: string): number {
    return this.#counts.get(address) ?? 0;
  }

  set(address: string, count: number): void {
    if (count <= 0) this.#counts.delete(address);
    else this.#counts.set(address, count);
  }

  begin(address: string): void {
    this.#counts.set(address, this.get(address) + 1);
  }

  end(address: string): void {
    this.set(address, this.get(address) - 1);
  }

  snapshot(): ReadonlyMap<string, number> {
    return new Map(this.#counts);
  }
}
