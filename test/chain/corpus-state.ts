/**
 * The state a corpus is generated in, shared by the modules that make its categories: the seeded random source, the
 * committees, the list of items being built and how an item is added (with its on-chain form), and the random draws
 * every category uses: a committee, a safe shape (k, n) and header, a signer set that reaches q.
 */
import type { Certificate } from '../../src/attest/certificate.ts'
import { decodeCertificate } from '../../src/attest/certificate-codec.ts'
import { encodeOnchainCertificate } from '../../src/chain/onchain-certificate.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { isSafeEncoding, kMax } from '../../src/committee/params.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import { shardSizeFor } from '../../src/erasure/layout.ts'
import { isDacnetError } from '../../src/errors.ts'
import {
  type Built,
  type Category,
  type CorpusCommittee,
  type CorpusContext,
  type CorpusItem,
  concat,
  Rng,
  range,
  stakeOf,
  witnessOf,
} from './corpus-base.ts'

/** A blob size whose policy shape (PROTOCOL.md §2.3) the corpus draws often: the shape members admit for 1 MiB. */
const POLICY_BLOB_SIZE = 1 << 20

/** The least n with kMax(n) >= 1. */
export const nMin = (committee: Committee) => {
  let n = committee.size + 1
  while (kMax(committee, n) < 1) n++
  return n
}

export const reaches = (c: CorpusCommittee, members: Iterable<number>) =>
  c.committee.reachesThreshold(stakeOf(c, members))

export class CorpusState {
  readonly ctx: CorpusContext
  readonly rng: Rng
  readonly items: CorpusItem[] = []
  /** The epochs that have a committee, in order. */
  readonly epochs: number[]
  readonly networkId: number

  constructor(ctx: CorpusContext, seed: number) {
    this.ctx = ctx
    this.rng = new Rng(seed)
    this.epochs = [...ctx.byEpoch.keys()].sort((a, b) => a - b)
    this.networkId = ctx.byEpoch.get(this.epochs[0]!)!.committee.networkId
  }

  add(
    category: Category,
    note: string,
    binary: Uint8Array,
    onchain: Uint8Array,
    intended: boolean,
    tags: string[] = [],
  ) {
    this.items.push({ index: this.items.length, category, note, tags, binary, onchain, intended })
  }

  /**
   * The on-chain form of presented bytes: when they decode and the committee of the epoch they name (else the
   * intended one) has their member count, the form `encodeOnchainCertificate` makes; otherwise the bytes followed
   * by the intended certificate's witness.
   */
  onchainFor(binary: Uint8Array, intended: CorpusCommittee, witness: () => Uint8Array): Uint8Array {
    let certificate: Certificate
    try {
      certificate = decodeCertificate(binary)
    } catch (err) {
      if (isDacnetError(err)) return concat(binary, witness())
      throw err
    }
    const c = this.ctx.byEpoch.get(certificate.epoch) ?? intended
    try {
      return encodeOnchainCertificate(certificate, c.committee, { recordIndex: c.recordIndex })
    } catch (err) {
      if (isDacnetError(err)) return concat(binary, witness())
      throw err
    }
  }

  addBuilt(category: Category, note: string, b: Built, intended: boolean, tags: string[] = []) {
    this.add(
      category,
      note,
      b.binary,
      this.onchainFor(b.binary, b.c, () => witnessOf(b)),
      intended,
      tags,
    )
  }

  /** Adds presented bytes derived from a well-formed certificate `base` (its witness is the fallback). */
  addDerived(category: Category, note: string, binary: Uint8Array, base: Built, tags: string[] = []) {
    this.add(
      category,
      note,
      binary,
      this.onchainFor(binary, base.c, () => witnessOf(base)),
      false,
      tags,
    )
  }

  committeeAt(epoch: number): CorpusCommittee {
    return this.ctx.byEpoch.get(epoch)!
  }

  randomCommittee(): CorpusCommittee {
    return this.committeeAt(this.rng.pick(this.epochs))
  }

  // Shapes (k, n) ------------------------------------------------------------------------------------------

  randomN(committee: Committee): number {
    const rng = this.rng
    const lo = nMin(committee)
    switch (rng.int(0, 5)) {
      case 0:
        return committee.shapeFor(POLICY_BLOB_SIZE).n
      case 1:
        return rng.int(lo, Math.min(65536, lo + 16))
      case 2:
        return rng.pick([65536, 65535, 32768, 32769, 49152])
      case 3:
        return Math.round(lo * (65536 / lo) ** rng.float())
      default:
        return rng.int(lo, 65536)
    }
  }

  /** A (k, n) safe for the committee, and tags for the kind of k. */
  safeShape(committee: Committee): { k: number; n: number; tags: string[] } {
    const rng = this.rng
    const kTag = (k: number, n: number) => (k === kMax(committee, n) ? 'k=kMax' : k <= 3 ? 'k<=3' : 'k=other')
    const policy = committee.shapeFor(POLICY_BLOB_SIZE)
    // The policy shape itself one time in six: drawn only through randomN, a seed could give three or fewer.
    if (rng.int(0, 5) === 0 && isSafeEncoding(committee, policy.k, policy.n)) {
      return { k: policy.k, n: policy.n, tags: [kTag(policy.k, policy.n), 'policy-shape'] }
    }
    for (;;) {
      const n = this.randomN(committee)
      const max = Math.min(kMax(committee, n), n - 1)
      if (max < 1) continue
      const mode = rng.int(0, 2)
      let k = mode === 0 ? max : mode === 1 ? rng.int(1, Math.min(3, max)) : rng.int(1, max)
      while (k >= 1 && !isSafeEncoding(committee, k, n)) k--
      if (k < 1) continue
      const tags = [kTag(k, n)]
      if (n === policy.n && k === policy.k) tags.push('policy-shape')
      return { k, n, tags }
    }
  }

  /** A data size for k: empty, small, or up to the largest whose shard size is still a u32. */
  dataSizeFor(k: number): { dataSize: number; tag: string } {
    const rng = this.rng
    const maxData = k * (2 ** 32 - 64)
    switch (rng.int(0, 5)) {
      case 0:
        return { dataSize: 0, tag: 'dataSize=0' }
      case 1:
        return { dataSize: maxData, tag: 'dataSize=max' }
      case 2:
        return { dataSize: rng.int(Math.min(2 ** 32, maxData), maxData), tag: 'dataSize>=2^32' }
      case 3:
        return { dataSize: rng.int(1, 64 * k), tag: 'dataSize=small' }
      default:
        return { dataSize: rng.int(1, 2 ** 27), tag: 'dataSize=medium' }
    }
  }

  header(c: CorpusCommittee, shape: { k: number; n: number }, dataSize: number, epoch?: number): BlobHeader {
    return {
      version: 1,
      networkId: this.networkId,
      epoch: epoch ?? c.committee.epoch,
      dataSize,
      k: shape.k,
      n: shape.n,
      shardSize: shardSizeFor(dataSize, shape.k),
      root: this.rng.bytes(32),
    }
  }

  /** A random header with a safe shape for c, and its tags. */
  safeHeader(c: CorpusCommittee, epoch?: number): { header: BlobHeader; tags: string[] } {
    const shape = this.safeShape(c.committee)
    const { dataSize, tag } = this.dataSizeFor(shape.k)
    return { header: this.header(c, shape, dataSize, epoch), tags: [...shape.tags, tag] }
  }

  // Signer sets ---------------------------------------------------------------------------------------------

  /**
   * A random set of members whose stake reaches q: all of them, all but a contiguous run (whole bitmap words of
   * signers around it), a minimal-ish one, or one with extras.
   */
  quorum(c: CorpusCommittee): number[] {
    const rng = this.rng
    const m = c.committee.size
    const mode = rng.int(0, 9)
    if (mode === 0) return range(m)
    if (mode === 1) {
      for (;;) {
        const length = rng.int(1, Math.max(1, Math.floor(m / 3)))
        const start = rng.int(0, m - length)
        const signers = range(m).filter((i) => i < start || i >= start + length)
        if (signers.length > 0 && reaches(c, signers)) return signers
      }
    }
    const order = rng.shuffle(range(m))
    const chosen: number[] = []
    let stake = 0n
    for (const i of order) {
      if (c.committee.reachesThreshold(stake)) break
      chosen.push(i)
      stake += c.committee.members[i]!.stake
    }
    if (mode >= 5) for (const i of order) if (!chosen.includes(i) && rng.chance(0.4)) chosen.push(i)
    return chosen.sort((a, b) => a - b)
  }
}
