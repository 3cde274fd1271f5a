/**
 * Test double of `fastly:edge-rate-limiter`: exact counters with no decay (tests advance
 * nothing), so a rate over a window is the count divided by the window, and a penalty box
 * that keeps entries until reset. `erlDouble.calls` records what was asked.
 */
export const erlDouble = {
  counts: new Map<string, number>(),
  boxed: new Map<string, number>(),
  calls: [] as string[],
  reset() {
    this.counts.clear();
    this.boxed.clear();
    this.calls = [];
  },
};

export class RateCounter {
  constructor(readonly name: string) {}
  increment(entry: string, delta: number): void {
    const k = `${this.name}/${entry}`;
    erlDouble.counts.set(k, (erlDouble.counts.get(k) ?? 0) + delta);
  }
  lookupRate(entry: string, window: 1 | 10 | 60): number {
    return (erlDouble.counts.get(`${this.name}/${entry}`) ?? 0) / window;
  }
  lookupCount(entry: string, _duration: number): number {
    erlDouble.calls.push(`lookupCount ${this.name} ${entry}`);
    return erlDouble.counts.get(`${this.name}/${entry}`) ?? 0;
  }
}

export class PenaltyBox {
  constructor(readonly name: string) {}
  add(entry: string, timeToLive: number): void {
    if (!(timeToLive >= 1 && timeToLive <= 60)) throw new TypeError('timeToLive must be 1 to 60 minutes');
    erlDouble.boxed.set(`${this.name}/${entry}`, timeToLive);
  }
  has(entry: string): boolean {
    return erlDouble.boxed.has(`${this.name}/${entry}`);
  }
}

export class EdgeRateLimiter {
  constructor(
    private readonly counter: RateCounter,
    private readonly box: PenaltyBox,
  ) {}
  checkRate(entry: string, delta: number, window: 1 | 10 | 60, limit: number, timeToLive: number): boolean {
    if (![1, 10, 60].includes(window)) throw new TypeError('window must be 1, 10 or 60');
    erlDouble.calls.push(`checkRate ${this.counter.name} ${entry} ${window} ${limit} ${timeToLive}`);
    this.counter.increment(entry, delta);
    if (this.counter.lookupRate(entry, window) > limit) {
      this.box.add(entry, timeToLive);
      return true;
    }
    return false;
  }
}
