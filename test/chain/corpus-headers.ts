/**
 * The corpus's certificates whose header is wrong (corpus.ts): signed for another epoch, naming an epoch with no
 * committee, for another network, with a signature made for another blob, or with a shape (k, n) that is not safe
 * for the committee or no supported shape.
 */
import { isSafeEncoding, isSupportedShape, kMax } from '../../src/committee/params.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import { shardSizeFor } from '../../src/erasure/layout.ts'
import { build, count, PLAN } from './corpus-base.ts'
import { type CorpusState, nMin } from './corpus-state.ts'

// 5. Another epoch: a certificate whose signature was made for another epoch's message --------------------

export function addOtherEpoch(s: CorpusState): void {
  for (let i = 0; i < PLAN['other-epoch']; i++) {
    const from = s.randomCommittee()
    // Alternately another epoch whose committee has as many members and one whose has not, where there is one:
    // both cases in quantity whatever committees the seed drew (a bitmap of the right length is the harder lie).
    const others = s.epochs.filter((e) => e !== from.committee.epoch)
    const wanted = others.filter((e) => (s.committeeAt(e).committee.size === from.committee.size) === (i % 2 === 0))
    const to = s.rng.pick(wanted.length > 0 ? wanted : others)
    const { header: signedHeader } = s.safeHeader(from)
    const h = { ...signedHeader, epoch: to }
    const signers = s.quorum(from)
    const sameCommittee = s.committeeAt(to).committee.size === from.committee.size
    s.addBuilt(
      'other-epoch',
      `signed for epoch ${from.committee.epoch} by its committee (bitmap over ${from.committee.size}), presented as epoch ${to}`,
      build({ c: from, header: h, signedHeader, signers }),
      false,
      [sameCommittee ? 'same member count' : 'other member count'],
    )
  }
}

// 6. Epochs with no committee: before the first, after the current one ------------------------------------

export function addUnknownEpoch(s: CorpusState): void {
  const rng = s.rng
  for (let i = 0; i < PLAN['unknown-epoch']; i++) {
    const first = s.epochs[0]!
    const last = s.epochs.at(-1)!
    const before = first > 0 && rng.chance(0.4)
    const c = s.committeeAt(before ? first : last)
    const epoch = before
      ? rng.int(0, first - 1)
      : rng.pick([s.ctx.currentEpoch + 1, s.ctx.currentEpoch + rng.int(2, 1000), Number.MAX_SAFE_INTEGER])
    const { header: h } = s.safeHeader(c, epoch)
    const signers = s.quorum(c)
    s.addBuilt(
      'unknown-epoch',
      `epoch ${epoch}, signed by epoch ${c.committee.epoch}'s committee`,
      build({ c, header: h, signers }),
      false,
    )
  }
}

// 7. Another network: the header names it (signed as such), or the signature was made for it ------------------

export function addOtherNetwork(s: CorpusState): void {
  const { rng, networkId } = s
  for (let i = 0; i < PLAN['other-network']; i++) {
    const c = s.randomCommittee()
    const { header: own } = s.safeHeader(c)
    const other = { ...own, networkId: rng.pick([networkId + 1, (networkId ^ 0x8000_0000) >>> 0, 0, 0xffff_ffff]) }
    if (other.networkId === networkId) continue
    const signers = s.quorum(c)
    const inHeader = rng.chance(0.5)
    s.addBuilt(
      'other-network',
      inHeader
        ? `header and signature for network ${other.networkId}`
        : `header for network ${networkId}, signature for network ${other.networkId}`,
      build({ c, header: inHeader ? other : own, signedHeader: other, signers }),
      false,
      [inHeader ? 'header' : 'signature'],
    )
  }
}

// 8. Another blob: the signature was made for other data (another root, size or shape) ---------------------

export function addOtherBlob(s: CorpusState): void {
  for (let i = 0; i < PLAN['other-blob']; i++) {
    const c = s.randomCommittee()
    const { header: h } = s.safeHeader(c)
    const variant = s.rng.int(0, 2)
    let signedHeader: BlobHeader
    if (variant === 0) signedHeader = { ...h, root: s.rng.bytes(32) }
    else if (variant === 1) {
      const dataSize = h.dataSize === 0 ? 1 : h.dataSize - 1
      signedHeader = { ...h, dataSize, shardSize: shardSizeFor(dataSize, h.k) }
    } else signedHeader = s.safeHeader(c).header
    s.addBuilt(
      'other-blob',
      `epoch ${h.epoch}: signature for ${['another root', 'another data size', 'another header'][variant]}`,
      build({ c, header: h, signedHeader, signers: s.quorum(c) }),
      false,
    )
  }
}

// 11. (k, n) not safe for the committee, and safe-looking (k, n) that are no supported shape ----------------

export function addUnsafeEncodings(s: CorpusState): void {
  const rng = s.rng
  while (count(s.items, 'unsafe-encoding') < PLAN['unsafe-encoding']) {
    const c = s.randomCommittee()
    const committee = c.committee
    const variant = rng.int(0, 2)
    let k: number
    let n: number
    if (variant === 0) {
      // k = kMax(n) + 1.
      n = s.randomN(committee)
      k = kMax(committee, n) + 1
    } else if (variant === 1) {
      // n so small that kMax(n) < 1: no k is safe.
      n = rng.int(2, nMin(committee) - 1)
      k = rng.int(1, n - 1)
    } else {
      // Far above kMax(n).
      n = s.randomN(committee)
      k = rng.int(Math.max(1, kMax(committee, n) + 1), n - 1)
    }
    if (k < 1 || k >= n || isSafeEncoding(committee, k, n)) continue
    const { dataSize } = s.dataSizeFor(k)
    const h = s.header(c, { k, n }, dataSize)
    s.addBuilt(
      'unsafe-encoding',
      `epoch ${h.epoch}: k=${k} n=${n}, kMax(n)=${kMax(committee, n)}`,
      build({ c, header: h, signers: s.quorum(c) }),
      false,
      [['k=kMax+1', 'kMax<1', 'k>kMax+1'][variant]!],
    )
  }
}

export function addUnsupportedShapes(s: CorpusState): void {
  const rng = s.rng
  while (count(s.items, 'unsupported-shape') < PLAN['unsupported-shape']) {
    const c = s.randomCommittee()
    const committee = c.committee
    const n = rng.int(49_153, 65_536)
    const max = Math.min(kMax(committee, n), n - 1)
    const k = rng.chance(0.5) ? rng.int(3, 64) : rng.int(3, max)
    if (k > max || isSupportedShape(k, n - k)) continue
    const { dataSize } = s.dataSizeFor(k)
    const h = s.header(c, { k, n }, dataSize)
    s.addBuilt(
      'unsupported-shape',
      `epoch ${h.epoch}: k=${k} n=${n} (k <= kMax(n)=${kMax(committee, n)}, no supported shape)`,
      build({ c, header: h, signers: s.quorum(c) }),
      false,
    )
  }
}
