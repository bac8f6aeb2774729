import { describe, expect, it } from 'vitest'
import {
  availabilityConfidence,
  binomialUpperTail,
  checkConfidence,
  roundAllowance,
  samplesForTarget,
} from '../../src/node/confidence.ts'

/**
 * The oracle: P[Bin(s, a/b) >= x] as an exact fraction, summed term by term in BigInt, independently of the
 * log-space code under test. term(i) = C(s, i) a^i (b - a)^(s - i), over b^s.
 */
function exactTail(s: number, x: number, a: number, b: number): { num: bigint; den: bigint } {
  const S = BigInt(s)
  const A = BigInt(a)
  const B = BigInt(b)
  const den = B ** S
  if (x > s) return { num: 0n, den }
  const from = Math.max(0, x)
  let choose = 1n // C(s, from)
  for (let i = 0; i < from; i++) choose = (choose * (S - BigInt(i))) / BigInt(i + 1)
  let num = 0n
  for (let i = from; i <= s; i++) {
    num += choose * A ** BigInt(i) * (B - A) ** BigInt(s - i)
    choose = (choose * (S - BigInt(i))) / BigInt(i + 1)
  }
  return { num, den }
}

/** Natural log of num / den for positive BigInts, accurate to double precision even far below 1e-308. */
function logRatio(num: bigint, den: bigint): number {
  const bits = (v: bigint) => v.toString(2).length
  const shift = bits(den) - bits(num) + 64 // quotient has about 64 significant bits
  const q = shift >= 0 ? (num << BigInt(shift)) / den : num / (den << BigInt(-shift))
  return Math.log(Number(q)) - shift * Math.LN2
}

function exactTailNumber(s: number, x: number, a: number, b: number): number {
  const { num, den } = exactTail(s, x, a, b)
  return num === 0n ? 0 : Math.exp(logRatio(num, den))
}

/** A double as an exact fraction (every finite double is m / 2^e). */
function exactRational(v: number): { num: bigint; den: bigint } {
  let e = 0
  while (!Number.isInteger(v)) {
    v *= 2 // exact in binary floating point
    e++
  }
  return { num: BigInt(v), den: 2n ** BigInt(e) }
}

/** The fewest s with ((k - 1) / n)^s <= 1 - target, compared exactly. */
function exactSamplesForTarget(target: number, k: number, n: number): number {
  const miss = exactRational(1 - target) // 1 - target is exact for target in [1/2, 1)
  const P = BigInt(k - 1)
  const N = BigInt(n)
  // p^s <= miss.num / miss.den  <=>  P^s * miss.den <= miss.num * N^s
  for (let s = 1; ; s++) {
    if (P ** BigInt(s) * miss.den <= miss.num * N ** BigInt(s)) return s
  }
}

function expectRelativelyClose(got: number, want: number, rel = 1e-9): void {
  if (want === 0) {
    expect(got).toBe(0)
    return
  }
  expect(got).toBeGreaterThan(0)
  expect(Math.abs(got - want) / want).toBeLessThan(rel)
}

const TARGET = 1 - 1e-6

describe('binomialUpperTail', () => {
  it('matches textbook values', () => {
    // P[Bin(10, 1/2) >= 8] = (C(10,8) + C(10,9) + C(10,10)) / 2^10 = 56 / 1024.
    expectRelativelyClose(binomialUpperTail(10, 8, 0.5), 56 / 1024)
    // P[Bin(4, 1/3) >= 2] = 1 - (2/3)^4 - 4 (1/3)(2/3)^3 = 1 - 16/81 - 32/81 = 33/81.
    expectRelativelyClose(binomialUpperTail(4, 2, 1 / 3), 33 / 81)
    // P[Bin(5, 1/2) >= 5] = 1/32; P[Bin(3, 1/2) >= 2] = 1/2 by symmetry.
    expectRelativelyClose(binomialUpperTail(5, 5, 0.5), 1 / 32)
    expectRelativelyClose(binomialUpperTail(3, 2, 0.5), 0.5)
    // Tables: P[Bin(20, 0.3) <= 9] = 0.9520, so the upper tail from 10 is 0.0480 to four places.
    expect(binomialUpperTail(20, 10, 0.3)).toBeCloseTo(0.048, 4)
    // Tables: P[Bin(25, 0.2) <= 7] = 0.8909.
    expect(binomialUpperTail(25, 8, 0.2)).toBeCloseTo(1 - 0.8909, 4)
  })

  it('matches closed forms at the ends of the tail', () => {
    for (const [s, p] of [
      [1, 0.3],
      [12, 19 / 64],
      [40, 0.5],
      [256, 10 / 32],
    ] as const) {
      // All successes: p^s. At least one: 1 - (1 - p)^s. At least zero: certain.
      expectRelativelyClose(binomialUpperTail(s, s, p), p ** s)
      expectRelativelyClose(binomialUpperTail(s, 1, p), 1 - (1 - p) ** s)
      expect(binomialUpperTail(s, 0, p)).toBe(1)
    }
  })

  it('matches an exact rational summation, including deep tails and large s', () => {
    const cases: [s: number, x: number, a: number, b: number][] = [
      [12, 12, 19, 64],
      [12, 11, 19, 64],
      [30, 15, 10, 32],
      [64, 20, 19, 64],
      [64, 19, 19, 64],
      [100, 50, 1, 3],
      [256, 70, 19, 64], // near the mean: not small
      [256, 170, 19, 64], // deep tail
      [256, 256, 19, 64], // about 1e-135
      [2000, 1000, 19, 64], // about 1e-78, many terms
      [2000, 500, 1, 4], // just below the mean: close to 1/2
      [3000, 600, 1, 4], // far below the mean: close to 1
      [3000, 2900, 1, 2], // about 1e-800 in reals: the implementation may return 0
    ]
    for (const [s, x, a, b] of cases) {
      const got = binomialUpperTail(s, x, a / b)
      const { num, den } = exactTail(s, x, a, b)
      const logWant = logRatio(num, den)
      if (logWant < Math.log(Number.MIN_VALUE)) {
        expect(got, `${s} ${x} ${a}/${b}`).toBe(0)
      } else {
        // a / b as a double differs from the fraction by about 1e-16 relative; over s factors of p that is
        // still far inside 1e-9.
        expect(Math.abs(Math.log(got) - logWant), `${s} ${x} ${a}/${b}`).toBeLessThan(1e-9)
      }
    }
  })

  it('satisfies the complement identity P[Bin(s,p) >= x] = 1 - P[Bin(s,1-p) >= s-x+1]', () => {
    for (const s of [1, 7, 33]) {
      for (let x = 0; x <= s + 1; x++) {
        for (const p of [0.1, 19 / 64, 0.5, 0.8]) {
          expect(binomialUpperTail(s, x, p)).toBeCloseTo(1 - binomialUpperTail(s, s - x + 1, 1 - p), 12)
        }
      }
    }
  })

  it('handles the boundaries of x and p', () => {
    expect(binomialUpperTail(10, 0, 0.3)).toBe(1)
    expect(binomialUpperTail(10, -3, 0.3)).toBe(1)
    expect(binomialUpperTail(0, 0, 0.3)).toBe(1)
    expect(binomialUpperTail(10, 11, 0.3)).toBe(0)
    expect(binomialUpperTail(0, 1, 0.3)).toBe(0)
    // p = 0 (k = 1): no sample can succeed, so any success is impossible.
    expect(binomialUpperTail(10, 1, 0)).toBe(0)
    expect(binomialUpperTail(10, 10, 0)).toBe(0)
    expect(binomialUpperTail(10, 0, 0)).toBe(1)
    // p = 1: every sample succeeds.
    expect(binomialUpperTail(10, 10, 1)).toBe(1)
    expect(binomialUpperTail(10, 1, 1)).toBe(1)
    expect(binomialUpperTail(10, 11, 1)).toBe(0)
    // Tiny and near-one p stay finite and in range.
    expectRelativelyClose(binomialUpperTail(5, 5, 1e-10), 1e-50)
    expectRelativelyClose(binomialUpperTail(5, 1, 1e-10), 5e-10, 1e-6)
    expectRelativelyClose(binomialUpperTail(5, 5, 1 - 1e-10), (1 - 1e-10) ** 5)
  })

  it('is monotone: falls with x, rises with p and with s, and stays in [0, 1]', () => {
    const ps = [0, 0.01, 0.1, 10 / 32, 19 / 64, 0.5, 0.9, 1].sort((a, b) => a - b)
    const slack = 1e-12
    for (let s = 0; s <= 40; s++) {
      for (let x = -1; x <= s + 1; x++) {
        let previous = -1
        for (const p of ps) {
          const v = binomialUpperTail(s, x, p)
          expect(v).toBeGreaterThanOrEqual(0)
          expect(v).toBeLessThanOrEqual(1)
          expect(v).toBeGreaterThanOrEqual(previous - slack)
          previous = v
          expect(binomialUpperTail(s, x + 1, p)).toBeLessThanOrEqual(v + slack)
          expect(binomialUpperTail(s + 1, x, p)).toBeGreaterThanOrEqual(v - slack)
        }
      }
    }
  })
})

describe('checkConfidence: what a check reports on the round it concluded', () => {
  it('is the bound itself on the first round, and less by the error the rounds before it were allowed', () => {
    const target = 1 - 1e-6
    expect(checkConfidence(target, 1, 13, 13, 13, 81, 256)).toBe(availabilityConfidence(13, 13, 13, 81, 256))
    // Round 8 of k = 81, n = 256: 243 draws. Its own bound alone would claim ~3e-9; the check spent up to
    // (1 - target)(1 - 2^-7) on rounds 1..7 getting there.
    const tail = binomialUpperTail(243, 90, 80 / 256)
    const spent = (1 - target) * (1 - 2 ** -7)
    expectRelativelyClose(1 - checkConfidence(target, 8, 243, 90, 70, 81, 256), spent + tail)
    // Still at or above the target whenever the round passed: the largest tail a passing round can have is its
    // allowance. Successes at each round's threshold, found by search, give a figure at or above the target.
    for (const [round, samples] of [
      [1, 13],
      [4, 48],
      [8, 243],
    ] as const) {
      let successes = samples
      while (successes > 0 && binomialUpperTail(samples, successes - 1, 80 / 256) <= roundAllowance(target, round)) {
        successes--
      }
      expect(binomialUpperTail(samples, successes, 80 / 256)).toBeLessThanOrEqual(roundAllowance(target, round))
      expect(checkConfidence(target, round, samples, successes, 0, 81, 256)).toBeGreaterThanOrEqual(target)
    }
  })

  it('is 1 once k distinct shards were held, and never below 0', () => {
    expect(checkConfidence(1 - 1e-6, 9, 256, 81, 81, 81, 256)).toBe(1)
    expect(checkConfidence(1 - 1e-6, 9, 256, 0, 0, 81, 256)).toBe(0)
    expect(checkConfidence(0.5, 9, 256, 1, 1, 81, 256)).toBe(0)
  })
})

describe('availabilityConfidence', () => {
  it('is one minus the binomial bound at p = (k - 1) / n', () => {
    // 12 samples, all fine, k = 20 of n = 64: 1 - (19/64)^12.
    expectRelativelyClose(availabilityConfidence(12, 12, 12, 20, 64), 1 - (19 / 64) ** 12)
    // 40 samples, 25 fine, 20 distinct: 1 - P[Bin(40, 19/64) >= 25], against the exact sum.
    expectRelativelyClose(availabilityConfidence(40, 25, 19, 20, 64), 1 - exactTailNumber(40, 25, 19, 64))
    // k = 11, n = 32, 100 samples, 40 fine.
    expectRelativelyClose(availabilityConfidence(100, 40, 10, 11, 32), 1 - exactTailNumber(100, 40, 10, 32))
  })

  it('is zero without a success and below the target when successes run at p', () => {
    expect(availabilityConfidence(256, 0, 0, 20, 64)).toBe(0)
    expect(availabilityConfidence(1, 0, 0, 1, 16)).toBe(0)
    // 256 samples succeeding at exactly the rate an unavailable blob allows (76 of 256 ~ 19/64): about even.
    const atP = availabilityConfidence(256, 76, 19, 20, 64)
    expect(atP).toBeGreaterThan(0.3)
    expect(atP).toBeLessThan(0.7)
    expect(availabilityConfidence(256, 90, 19, 20, 64)).toBeLessThan(TARGET)
  })

  it('is one as soon as the successes cover k distinct indices, whatever failed', () => {
    expect(availabilityConfidence(256, 20, 20, 20, 64)).toBe(1)
    expect(availabilityConfidence(3, 1, 1, 1, 16)).toBe(1)
    // One distinct index short of k, the bound applies and confidence is below one.
    expect(availabilityConfidence(256, 20, 19, 20, 64)).toBeLessThan(0.01)
    expect(availabilityConfidence(12, 12, 12, 20, 64)).toBeLessThan(1)
  })

  it('rises with successes and falls with failures', () => {
    const [k, n] = [20, 64]
    for (const s of [1, 12, 50, 256]) {
      let previous = -1
      for (let x = 0; x <= s; x++) {
        const c = availabilityConfidence(s, x, 0, k, n)
        expect(c).toBeGreaterThanOrEqual(0)
        expect(c).toBeLessThanOrEqual(1)
        expect(c).toBeGreaterThanOrEqual(previous - 1e-12)
        previous = c
        // One more sample that failed never raises confidence.
        expect(availabilityConfidence(s + 1, x, 0, k, n)).toBeLessThanOrEqual(c + 1e-12)
      }
    }
  })
})

describe('samplesForTarget', () => {
  // Shapes: the default encodings of 4 and 5-7 member committees (see committee/params.ts), k = 2 of 4, a large
  // code at rate 1/4, and a high-rate code where p is close to 1.
  const shapes: [k: number, n: number][] = [
    [11, 32],
    [20, 64],
    [2, 4],
    [1024, 4096],
    [48, 64],
    [15, 16],
  ]

  it('matches an exact computation of the fewest s with p^s <= 1e-6', () => {
    for (const [k, n] of shapes) {
      expect(samplesForTarget(TARGET, k, n), `${k}/${n}`).toBe(exactSamplesForTarget(TARGET, k, n))
    }
    // Hand values: (10/32)^11 = 2.8e-6 > 1e-6 >= (10/32)^12 = 8.7e-7; (19/64)^11 = 1.6e-6, (19/64)^12 = 4.8e-7.
    expect(samplesForTarget(TARGET, 11, 32)).toBe(12)
    expect(samplesForTarget(TARGET, 20, 64)).toBe(12)
    // (1/4)^10 = 9.5e-7 <= 1e-6 < (1/4)^9.
    expect(samplesForTarget(TARGET, 2, 4)).toBe(10)
  })

  it('matches the exact computation for other targets, including ones met exactly', () => {
    for (const target of [0.5, 0.9, 0.99, 0.999, 1 - 1e-9]) {
      for (const [k, n] of shapes) {
        expect(samplesForTarget(target, k, n), `${target} ${k}/${n}`).toBe(exactSamplesForTarget(target, k, n))
      }
    }
    // p = 1/2 and 1 - target = 1/8 = p^3 exactly: three samples suffice, not four.
    expect(samplesForTarget(0.875, 3, 4)).toBe(3)
    expect(samplesForTarget(0.5, 3, 4)).toBe(1)
  })

  it('is what availabilityConfidence needs when every sample succeeds', () => {
    for (const [k, n] of shapes) {
      const s = samplesForTarget(TARGET, k, n)
      // Fewer distinct indices than k (so the shortcut to 1 does not apply).
      const distinct = Math.min(s, k - 1)
      expect(availabilityConfidence(s, s, distinct, k, n)).toBeGreaterThanOrEqual(TARGET)
      if (s > 1) expect(availabilityConfidence(s - 1, s - 1, distinct, k, n)).toBeLessThan(TARGET)
    }
  })

  it('is 1 for k = 1, where no shard retrievable means no sample can succeed', () => {
    expect(samplesForTarget(TARGET, 1, 16)).toBe(1)
    expect(samplesForTarget(0.5, 1, 2)).toBe(1)
  })
})
