/**
 * What the certificate corpus (corpus.ts) is made of, shared by the modules that generate its categories: the seeded
 * random source, the context and item types, the plan of categories, and the building of a certificate (its binary
 * form, its aggregate signature, its on-chain witness).
 */
import { signAttestation } from '../../src/attest/attestation.ts'
import {
  aggregateSignatures,
  decodeSignature,
  type SecretKey,
  secretKeyFromBytes,
  signatureBytes,
} from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { bitmapFromSigners } from '../../src/attest/signer-bitmap.ts'
import { encodeOnchainCertificate } from '../../src/chain/onchain-certificate.ts'
import { uintFromBytes, uintToBytes } from '../../src/chain/points.ts'
import type { Committee } from '../../src/committee/committee.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import { R } from './helpers.ts'

// ------------------------------------------------------------------------------------------------------------
// Seeded randomness

/** sfc32, seeded through splitmix32: small, fast and the same on every platform. */
export class Rng {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor(seed: number) {
    let s = seed >>> 0
    const split = () => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.#a = split()
    this.#b = split()
    this.#c = split()
    this.#d = split()
    for (let i = 0; i < 12; i++) this.u32()
  }

  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0
    this.#d = (this.#d + 1) >>> 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) >>> 0
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0
    this.#c = (this.#c + t) >>> 0
    return t
  }

  /** Uniform in [0, 1) with 53 bits. */
  float(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992
  }

  /** Uniform integer in [lo, hi], both inclusive, for ranges up to 2^53. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1))
  }

  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[out[i], out[j]] = [out[j]!, out[i]!]
    }
    return out
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff
    return out
  }
}

// ------------------------------------------------------------------------------------------------------------
// What the corpus is made from

/** A committee the registry holds for one epoch, with the secret keys of its members (member order). */
export interface CorpusCommittee {
  readonly committee: Committee
  /** The registry record that holds the epoch (`committeeFor(epoch)`). */
  readonly recordIndex: number
  readonly secretKeys: readonly SecretKey[]
}

export interface CorpusContext {
  /** Every epoch that has a committee, by epoch. */
  readonly byEpoch: ReadonlyMap<number, CorpusCommittee>
  /** The chain's current epoch: later epochs have no committee yet. */
  readonly currentEpoch: number
  /** Stakes are whole multiples of this, except two "dust" members per committee of 1 and unit − 1. */
  readonly unit: bigint
}

export const CATEGORIES = [
  'valid',
  'threshold-exact',
  'threshold-short',
  'wrong-signers',
  'stake-off-by-one',
  'other-epoch',
  'unknown-epoch',
  'other-network',
  'other-blob',
  'duplicate-signer',
  'infinity',
  'non-subgroup',
  'unsafe-encoding',
  'unsupported-shape',
  'truncated',
  'padded',
  'malformed-field',
  'bit-flip',
] as const

export type Category = (typeof CATEGORIES)[number]

/** How many items of each category the corpus has (the test checks it got them). */
export const PLAN: Readonly<Record<Category, number>> = {
  valid: 260,
  'threshold-exact': 50,
  'threshold-short': 50,
  'wrong-signers': 80,
  'stake-off-by-one': 60,
  'other-epoch': 60,
  'unknown-epoch': 30,
  'other-network': 40,
  'other-blob': 50,
  'duplicate-signer': 40,
  infinity: 20,
  'non-subgroup': 20,
  'unsafe-encoding': 50,
  'unsupported-shape': 20,
  truncated: 50,
  padded: 50,
  'malformed-field': 50,
  'bit-flip': 400,
}

export interface CorpusItem {
  readonly index: number
  readonly category: Category
  /** What the generator built, for a person reading a failure. */
  readonly note: string
  /** Finer labels a category's items carry (e.g. "k=kMax", "dataSize=0"), counted by the test. */
  readonly tags: readonly string[]
  /** The binary certificate as presented (possibly mangled). */
  readonly binary: Uint8Array
  /** The on-chain form sent to the contract. */
  readonly onchain: Uint8Array
  /** The verdict the generator meant the item to have. */
  readonly intended: boolean
}

// ------------------------------------------------------------------------------------------------------------
// Building certificates

export interface Draft {
  /** Whose keys sign, and whose members the bitmap names. */
  readonly c: CorpusCommittee
  readonly header: BlobHeader
  /** The header whose attestation message is signed; the certificate's own by default. */
  readonly signedHeader?: BlobHeader
  /** Signature contributions (a repeated index signs twice). */
  readonly signers: readonly number[]
  /** The bitmap; `signers` by default. */
  readonly claimed?: readonly number[]
  /** Default: the claimed members' stake. */
  readonly signedStake?: bigint
}

export interface Built {
  readonly certificate: Certificate
  readonly binary: Uint8Array
  readonly c: CorpusCommittee
}

const sumKeys = (keys: readonly SecretKey[], signers: readonly number[]): SecretKey => {
  let sum = 0n
  for (const i of signers) sum = (sum + uintFromBytes(keys[i]!.toBytes())) % R
  return secretKeyFromBytes(uintToBytes(sum, 32))
}

/** The aggregate signature of `signers` over the header's attestation message: one signing of their summed key. */
function signFor(c: CorpusCommittee, header: BlobHeader, signers: readonly number[]): Uint8Array {
  return signAttestation(sumKeys(c.secretKeys, signers), attestationContextOf(header)).signature
}

/** The same signature made the long way: each signer's attestation, aggregated. */
export function aggregateBySigners(c: CorpusCommittee, header: BlobHeader, signers: readonly number[]): Uint8Array {
  const context = attestationContextOf(header)
  return signatureBytes(
    aggregateSignatures(signers.map((i) => decodeSignature(signAttestation(c.secretKeys[i]!, context).signature))),
  )
}

export function build(d: Draft): Built {
  const m = d.c.committee.size
  const claimed = d.claimed ?? d.signers
  const certificate: Certificate = {
    version: 1,
    epoch: d.header.epoch,
    header: d.header,
    memberCount: m,
    signers: bitmapFromSigners(m, claimed),
    signature: signFor(d.c, d.signedHeader ?? d.header, d.signers),
    signedStake: d.signedStake ?? stakeOf(d.c, claimed),
  }
  return { certificate, binary: encodeCertificate(certificate), c: d.c }
}

export function stakeOf(c: CorpusCommittee, members: Iterable<number>): bigint {
  let sum = 0n
  for (const i of new Set(members)) sum += c.committee.members[i]!.stake
  return sum
}

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** The witness §4.5 gives a well-formed certificate of `c` (its signature must be a valid point). */
export function witnessOf(b: Built, signatureY?: Uint8Array): Uint8Array {
  const form = encodeOnchainCertificate(b.certificate, b.c.committee, { recordIndex: b.c.recordIndex })
  const witness = form.slice(b.binary.length)
  if (signatureY) witness.set(signatureY, 5)
  return witness
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** How many items of the category the corpus has so far. */
export function count(items: readonly CorpusItem[], category: Category): number {
  return items.reduce((n, item) => n + (item.category === category ? 1 : 0), 0)
}
