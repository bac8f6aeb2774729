/**
 * Sampling math for light clients (pure).
 *
 * If fewer than k of the n shards were retrievable — at most k - 1 of them — a sample of a uniformly random
 * index succeeds with probability at most p = (k - 1) / n. Samples are drawn independently (with
 * replacement), so the number of successes in s samples is dominated by Binomial(s, p), and
 *
 *   P[at least x successes | blob unavailable] <= P[Bin(s, p) >= x].
 *
 * Confidence is one minus that bound. And when the successes cover k distinct indices, the client has held
 * k valid shards itself: the blob is retrievable, confidence 1.
 */

/** P[Bin(s, p) >= x], summed in log space so that large s neither under- nor overflows. */
export function binomialUpperTail(s: number, x: number, p: number): number {
  if (x <= 0) return 1
  if (x > s) return 0
  if (p <= 0) return 0
  if (p >= 1) return 1
  const logP = Math.log(p)
  const logQ = Math.log1p(-p)
  // log C(s, x) via lgamma-free accumulation: sum of logs.
  let logTerm = logChoose(s, x) + x * logP + (s - x) * logQ
  let total = 0
  for (let i = x; i <= s; i++) {
    total += Math.exp(logTerm)
    // term(i + 1) / term(i) = (s - i) / (i + 1) * p / q
    logTerm += Math.log((s - i) / (i + 1)) + logP - logQ
  }
  return Math.min(1, total)
}

function logChoose(n: number, k: number): number {
  let sum = 0
  const m = Math.min(k, n - k)
  for (let i = 1; i <= m; i++) sum += Math.log((n - m + i) / i)
  return sum
}

/** The bound on unavailability for what a client saw, as a confidence in [0, 1]. */
export function availabilityConfidence(
  samples: number,
  successes: number,
  distinctSuccesses: number,
  k: number,
  n: number,
): number {
  if (distinctSuccesses >= k) return 1
  return 1 - binomialUpperTail(samples, successes, (k - 1) / n)
}

/** Samples needed to reach `target` if every one succeeds: the fewest s with p^s <= 1 - target. */
export function samplesForTarget(target: number, k: number, n: number): number {
  const p = (k - 1) / n
  if (p <= 0) return 1
  return Math.max(1, Math.ceil(Math.log(1 - target) / Math.log(p)))
}

/**
 * The sampling rounds of a check: where each ends, in samples drawn so far. The first round is `first` samples
 * (what the target needs if all succeed), each later one half again of what was drawn (at least 8), up to
 * `maxSamples`. The ends depend on nothing sampled, so a round's evidence is always the same prefix of the draws,
 * however early its successor's draws went out.
 */
export function roundEnds(first: number, maxSamples: number): number[] {
  const ends: number[] = []
  let drawn = 0
  while (drawn < maxSamples) {
    drawn += Math.min(maxSamples - drawn, drawn === 0 ? first : Math.max(8, Math.ceil(drawn / 2)))
    ends.push(drawn)
  }
  return ends
}

/**
 * The confidence a check reports when it concludes on round `round`'s evidence (`samples` draws, `successes` of
 * them, `distinct` indices held): one minus everything the check may have spent to get there — the allowance of
 * every round before, each looked at and each able to pass by chance (roundAllowance), and this round's own bound.
 * Reporting this round's bound alone would claim, for a check that needed eight rounds, an error some hundred times
 * smaller than the procedure guarantees. 1 once the successes cover k distinct indices (the client held k shards).
 */
export function checkConfidence(
  target: number,
  round: number,
  samples: number,
  successes: number,
  distinct: number,
  k: number,
  n: number,
): number {
  if (distinct >= k) return 1
  return confidenceAfterRounds(target, round, availabilityConfidence(samples, successes, distinct, k, n))
}

/**
 * checkConfidence from round `round`'s own confidence (`bound`, availabilityConfidence): less the allowance of every
 * round before it, at least 0. For a caller that has the bound already and knows k distinct shards were not held.
 */
export function confidenceAfterRounds(target: number, round: number, bound: number): number {
  return Math.max(0, bound - (1 - target) * (1 - 2 ** -(round - 1)))
}

/**
 * The error a check may spend at round `round` (1-based) for an overall `1 - target`: (1 - target) / 2^round, so
 * that over every round together the chance of a false "available" stays below 1 - target.
 */
export function roundAllowance(target: number, round: number): number {
  return (1 - target) / 2 ** round
}
