import type { Committee } from '../committee/committee.ts'
import type { BlobHeader } from '../erasure/header.ts'

/**
 * Why a blob header does not fit the committee of its epoch and a maximum blob size — another network, other
 * encoding parameters (k, n), or a larger blob — or undefined when it fits. Members check what sequencers send
 * them, retrievers what holders send them, with the same rule.
 */
export function headerMisfit(header: BlobHeader, committee: Committee, maxBlobSize: number): string | undefined {
  if (header.networkId !== committee.networkId) {
    return `blob is for network ${header.networkId}, not ${committee.networkId}`
  }
  if (header.k !== committee.encoding.k || header.n !== committee.encoding.n) {
    return `blob has k/n ${header.k}/${header.n}; epoch ${header.epoch} uses ${committee.encoding.k}/${committee.encoding.n}`
  }
  if (header.dataSize > maxBlobSize) return `blob of ${header.dataSize} bytes is above the maximum of ${maxBlobSize}`
  return undefined
}
