/**
 * The corpus's certificates that differ in who signed (corpus.ts): valid ones with random signer sets, signer sets
 * whose stake is exactly at q or one short, a bitmap that names others than signed, a signed-stake field off by one,
 * and a signature that counts one signer twice.
 */
import { build, type CorpusCommittee, count, PLAN, range, stakeOf } from './corpus-base.ts'
import { type CorpusState, reaches } from './corpus-state.ts'

// 1. Valid certificates ----------------------------------------------------------------------------------

export function addValid(s: CorpusState): void {
  for (let i = 0; i < PLAN.valid; i++) {
    const c = s.randomCommittee()
    const { header: h, tags } = s.safeHeader(c)
    const signers = s.quorum(c)
    if (signers.length === c.committee.size) tags.push('all-signed')
    s.addBuilt(
      'valid',
      `epoch ${h.epoch}, k=${h.k} n=${h.n} dataSize=${h.dataSize}, signers ${signers}`,
      build({ c, header: h, signers }),
      true,
      tags,
    )
  }
}

// 2. Signed stake exactly at q, and one unit short -----------------------------------------------------------

/**
 * Member sets at the threshold's edge. Stakes are multiples of `unit` except two dust members holding 1 and
 * unit − 1, and q·S is a multiple of unit, so: regular members holding q·S (exact), regular members holding
 * q·S − unit with both dust members (exact), the same with only the unit − 1 member (one short), and q·S with the
 * 1 member (one over).
 */
const edgeSets = (s: CorpusState, c: CorpusCommittee) => {
  const { unit } = s.ctx
  const { members, threshold, totalStake } = c.committee
  if ((threshold.num * totalStake) % threshold.den !== 0n) return undefined
  const qS = (threshold.num * totalStake) / threshold.den
  const one = members.find((m) => m.stake === 1n)
  const rest = members.find((m) => m.stake === unit - 1n)
  const regular = members.filter((m) => m.stake % unit === 0n)
  if (!one || !rest || qS % unit !== 0n) return undefined
  const target = Number(qS / unit)
  const units = regular.map((m) => ({ index: m.index, units: Number(m.stake / unit) }))
  return { qS, one: one.index, rest: rest.index, target, units }
}

/** A random subset of `units` summing to exactly `target` units (a subset-sum table, then a random walk). */
const subsetWithSum = (
  s: CorpusState,
  units: readonly { index: number; units: number }[],
  target: number,
): number[] | undefined => {
  if (target < 0) return undefined
  const order = s.rng.shuffle(units)
  const reach: bigint[] = Array(order.length + 1)
  reach[order.length] = 1n
  for (let j = order.length - 1; j >= 0; j--) reach[j] = reach[j + 1]! | (reach[j + 1]! << BigInt(order[j]!.units))
  const has = (set: bigint, sum: number) => sum >= 0 && ((set >> BigInt(sum)) & 1n) === 1n
  if (!has(reach[0]!, target)) return undefined
  const chosen: number[] = []
  let left = target
  for (let j = 0; j < order.length; j++) {
    const take = has(reach[j + 1]!, left - order[j]!.units)
    const skip = has(reach[j + 1]!, left)
    if (take && (!skip || s.rng.chance(0.5))) {
      chosen.push(order[j]!.index)
      left -= order[j]!.units
    }
  }
  return chosen
}

export function addThresholdEdges(s: CorpusState): void {
  const edgeCommittees = s.epochs.map((e) => s.committeeAt(e)).filter((c) => edgeSets(s, c) !== undefined)
  if (edgeCommittees.length === 0) throw new Error('no committee has stakes that put a signer set exactly at q')
  const made = { exact: 0, short: 0 }
  for (let attempt = 0; made.exact < PLAN['threshold-exact'] || made.short < PLAN['threshold-short']; attempt++) {
    if (attempt > 100_000) throw new Error('could not find enough signer sets at the threshold')
    const c = s.rng.pick(edgeCommittees)
    const e = edgeSets(s, c)!
    const variant = s.rng.int(0, 3)
    const base = subsetWithSum(s, e.units, variant === 0 || variant === 3 ? e.target : e.target - 1)
    if (!base) continue
    const signers = [
      ...base,
      ...(variant === 1 ? [e.one, e.rest] : variant === 2 ? [e.rest] : variant === 3 ? [e.one] : []),
    ].sort((a, b) => a - b)
    const stake = stakeOf(c, signers)
    const short = variant === 2
    if (short ? made.short >= PLAN['threshold-short'] : made.exact >= PLAN['threshold-exact']) continue
    if (stake !== (short ? e.qS - 1n : variant === 3 ? e.qS + 1n : e.qS))
      throw new Error('edge set has the wrong stake')
    const { header: h } = s.safeHeader(c)
    const label = ['q·S, no dust', 'q·S with both dust members', 'q·S − 1', 'q·S + 1'][variant]!
    s.addBuilt(
      short ? 'threshold-short' : 'threshold-exact',
      `epoch ${h.epoch}: ${label} (${stake} of ${c.committee.totalStake}), signers ${signers}`,
      build({ c, header: h, signers }),
      !short,
      [label],
    )
    if (short) made.short++
    else made.exact++
  }
}

// 3. Wrong signer set: the signature of one set, the bitmap (and its stake) of another that reaches q ----------

export function addWrongSigners(s: CorpusState): void {
  const rng = s.rng
  while (count(s.items, 'wrong-signers') < PLAN['wrong-signers']) {
    const c = s.randomCommittee()
    const m = c.committee.size
    const signed = s.quorum(c)
    let claimed: number[]
    const variant = rng.int(0, 4)
    if (variant === 4) {
      // Nobody in the bitmap, and a signed stake of 0 to match.
      const { header: h } = s.safeHeader(c)
      s.addBuilt(
        'wrong-signers',
        `epoch ${h.epoch}: signed by ${signed}, empty bitmap, stake 0`,
        build({ c, header: h, signers: signed, claimed: [] }),
        false,
        ['no signer'],
      )
      continue
    }
    if (variant === 0) {
      // One signer swapped for a non-signer.
      const out = rng.pick(signed)
      const absent = range(m).filter((i) => !signed.includes(i))
      if (absent.length === 0) continue
      claimed = [...signed.filter((i) => i !== out), rng.pick(absent)]
    } else if (variant === 1) {
      // The bitmap names one more member than signed.
      const absent = range(m).filter((i) => !signed.includes(i))
      if (absent.length === 0) continue
      claimed = [...signed, rng.pick(absent)]
    } else if (variant === 2) {
      // One member fewer than signed (when the rest still reach q).
      const out = rng.pick(signed)
      claimed = signed.filter((i) => i !== out)
    } else {
      claimed = s.quorum(c)
    }
    claimed = [...new Set(claimed)].sort((a, b) => a - b)
    if (claimed.join() === signed.join() || claimed.length === 0 || !reaches(c, claimed)) continue
    const { header: h } = s.safeHeader(c)
    s.addBuilt(
      'wrong-signers',
      `epoch ${h.epoch}: signed by ${signed}, bitmap ${claimed}`,
      build({ c, header: h, signers: signed, claimed }),
      false,
    )
  }
}

// 4. Signed-stake field off by one (and a few far off) ----------------------------------------------------

export function addStakeOffByOne(s: CorpusState): void {
  const rng = s.rng
  for (let i = 0; i < PLAN['stake-off-by-one']; i++) {
    const c = s.randomCommittee()
    const signers = s.quorum(c)
    const stake = stakeOf(c, signers)
    const claim = i % 10 === 9 ? rng.pick([0n, 2n ** 256n - 1n, stake * 2n]) : rng.chance(0.5) ? stake + 1n : stake - 1n
    const { header: h } = s.safeHeader(c)
    s.addBuilt(
      'stake-off-by-one',
      `epoch ${h.epoch}: signers ${signers} hold ${stake}, the field says ${claim}`,
      build({ c, header: h, signers, signedStake: claim }),
      false,
    )
  }
}

// 9. A signature that counts one signer twice -------------------------------------------------------------

export function addDuplicateSigner(s: CorpusState): void {
  for (let i = 0; i < PLAN['duplicate-signer']; i++) {
    const c = s.randomCommittee()
    const signers = s.quorum(c)
    const twice = s.rng.pick(signers)
    const { header: h } = s.safeHeader(c)
    s.addBuilt(
      'duplicate-signer',
      `epoch ${h.epoch}: signers ${signers}, member ${twice}'s signature added twice`,
      build({ c, header: h, signers: [...signers, twice], claimed: signers }),
      false,
    )
  }
}
