import { decodeCertificate } from '../attest/certificate-codec.ts'
import { verifyCertificate } from '../attest/verify-certificate.ts'
import { CommitteeErrorCode } from '../committee/errors.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { isDacnetError } from '../errors.ts'
import type { CertificateVerdict } from '../p2p/gossip.ts'

/**
 * How any node judges a gossiped certificate: it must decode and verify against the committee of the epoch
 * it names. A certificate for an epoch this node does not know yet is ignored (no blame: its committee file
 * may lag); anything else that fails is rejected, which costs the peer that forwarded it.
 */
export async function judgeCertificate(committees: CommitteeSource, bytes: Uint8Array): Promise<CertificateVerdict> {
  let certificate: ReturnType<typeof decodeCertificate>
  try {
    certificate = decodeCertificate(bytes)
  } catch {
    return 'reject'
  }
  try {
    const committee = await committees.getCommittee(certificate.epoch)
    verifyCertificate(certificate, committee)
    return 'accept'
  } catch (err) {
    return isDacnetError(err, CommitteeErrorCode.UNKNOWN_EPOCH) ? 'ignore' : 'reject'
  }
}
