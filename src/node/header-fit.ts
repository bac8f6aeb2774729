import type { Committee } from '../committee/committee.ts'
import type { BlobHeader } from '../erasure/header.ts'

/**
 * Why a blob header does not fit the committee of its epoch and a maximum blob size — another network, a larger
 * blob, or a (k, n) other than the committee's shape for a blob of that size (`Committee.shapeFor`, PROTOCOL.md
 * §2.3) — or undefined when it fits. Members check what sequencers send them, retrievers what holders send them
 * for a bare blob id, with the same rule.
 *
 * Requiring the policy's shape is dispersal policy, stricter than the certificate rule (any (k, n) safe for the
 * committee, `isSafeEncoding`): members store only that shape, so a holder's header of another shape cannot come
 * from an honest store.
 */
export function headerMisfit(header: BlobHeader, committee: Committee, maxBlobSize: number): string | undefined {
  if (header.networkId !== committee.networkId) {
    return `blob is for network ${header.networkId}, not ${committee.networkId}`
  }
  if (header.dataSize > maxBlobSize) return `blob of ${header.dataSize} bytes is above the maximum of ${maxBlobSize}`
  const shape = committee.shapeFor(header.dataSize)
  if (header.k !== shape.k || header.n !== shape.n) {
    return `blob of ${header.dataSize} bytes has k/n ${header.k}/${header.n}; epoch ${header.epoch} disperses it with ${shape.k}/${shape.n}`
  }
  return undefined
}
