import { hash } from 'node:crypto'
import { decodeCertificate } from '../attest/certificate-codec.ts'
import { verifyCertificate } from '../attest/verify-certificate.ts'
import type { Committee } from '../committee/committee.ts'
import type { CommitteeSource } from '../committee/source.ts'
import type { CertificateVerdict } from '../p2p/gossip.ts'

/** Accepted certificates a node remembers, so that a replay costs a hash instead of a pairing: ~100 KiB. */
export const DEFAULT_REMEMBERED_CERTIFICATES = 2048

/**
 * How any node judges a gossiped certificate: it must decode and verify against the committee of the epoch
 * it names. A certificate for an epoch this node does not know yet is ignored (no blame: its committee file
 * may lag), and so is one this node cannot judge because its own committee source failed; a certificate that
 * does not decode or verify is rejected, which costs the peer that forwarded it.
 */
export async function judgeCertificate(committees: CommitteeSource, bytes: Uint8Array): Promise<CertificateVerdict> {
  let certificate: ReturnType<typeof decodeCertificate>
  try {
    certificate = decodeCertificate(bytes)
  } catch {
    return 'reject'
  }
  let committee: Committee
  try {
    committee = await committees.getCommittee(certificate.epoch)
  } catch {
    // Unknown epoch, or this node's committee source failed: neither is the sender's fault.
    return 'ignore'
  }
  try {
    verifyCertificate(certificate, committee)
    return 'accept'
  } catch {
    return 'reject'
  }
}

/**
 * judgeCertificate with a memory: a certificate accepted before is ignored (not forwarded again, no blame),
 * so replaying valid certificates, which gossipsub's own duplicate filter forgets after two minutes, costs
 * every node one SHA-256 instead of a pairing check and a database write. Bounded, oldest forgotten first.
 */
export class CertificateJudge {
  readonly #committees: CommitteeSource
  readonly #capacity: number
  readonly #accepted = new Set<string>()

  constructor(committees: CommitteeSource, capacity = DEFAULT_REMEMBERED_CERTIFICATES) {
    this.#committees = committees
    this.#capacity = capacity
  }

  async judge(bytes: Uint8Array): Promise<CertificateVerdict> {
    const digest = hash('sha256', bytes, 'base64')
    if (this.#accepted.has(digest)) return 'ignore'
    const verdict = await judgeCertificate(this.#committees, bytes)
    if (verdict === 'accept') {
      this.#accepted.add(digest)
      if (this.#accepted.size > this.#capacity) this.#accepted.delete(this.#accepted.values().next().value!)
    }
    return verdict
  }
}
