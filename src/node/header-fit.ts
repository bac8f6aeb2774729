import type { Committee } from '../committee/committee.ts'
import type { BlobHeader } from '../erasure/header.ts'

/**
 * Why a blob header does not fit the committee of its epoch and a maximum blob size — another network, a (k, n)
 * other than the committee's default shape, or a larger blob — or undefined when it fits. Members check what
 * sequencers send them, retrievers what holders send them for a bare blob id, with the same rule.
 *
 * Requiring the default shape is dispersal policy, stricter than the certificate rule (any (k, n) safe for the
 * committee, `isSafeEncoding`): members store only that shape, so a holder's header of another shape cannot come
 * from an honest store, and the assignment members compute is for that n.
 */
export function headerMisfit(header: BlobHeader, committee: Committee, maxBlobSize: number): string | undefined {
  if (header.networkId !== committee.networkId) {
    return `blob is for network ${header.networkId}, not ${committee.networkId}`
  }
  if (header.k !== committee.encoding.k || header.n !== committee.encoding.n) {
    return `blob has k/n ${header.k}/${header.n}; epoch ${header.epoch} disperses with ${committee.encoding.k}/${committee.encoding.n}`
  }
  if (header.dataSize > maxBlobSize) return `blob of ${header.dataSize} bytes is above the maximum of ${maxBlobSize}`
  return undefined
}
