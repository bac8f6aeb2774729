/** Seeded PRNG (mulberry32): deterministic test cases that still cover a wide space. */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + (this.next() % (max - min + 1))
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i += 4) {
      const x = this.next()
      out[i] = x
      if (i + 1 < length) out[i + 1] = x >>> 8
      if (i + 2 < length) out[i + 2] = x >>> 16
      if (i + 3 < length) out[i + 3] = x >>> 24
    }
    return out
  }

  /** `count` distinct values from 0..range-1, in random order (partial Fisher–Yates). */
  pick(range: number, count: number): number[] {
    const all = Array.from({ length: range }, (_, i) => i)
    for (let i = 0; i < count; i++) {
      const j = this.int(i, range - 1)
      ;[all[i], all[j]] = [all[j]!, all[i]!]
    }
    return all.slice(0, count)
  }
}

/** True if the two shard lists are byte-equal, shard by shard. */
export function sameShards(a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.length === b.length && a.every((s, i) => Buffer.compare(s, b[i]!) === 0)
}

/** Index of the first differing shard, or -1 (for readable failure messages). */
export function firstDifference(a: Uint8Array[], b: Uint8Array[]): number {
  if (a.length !== b.length) return Math.min(a.length, b.length)
  return a.findIndex((s, i) => Buffer.compare(s, b[i]!) !== 0)
}
