import { type Address, type Hex, hexToBytes, keccak256 } from 'viem'

/** Bytes in a block's logs bloom: 2,048 bits. */
const BLOOM_BYTES = 256

/**
 * False only if no log of `address` can be in the block whose `logsBloom` this is (Ethereum yellow paper §4.3.1:
 * each log sets three of the 2,048 bits from keccak256 of its address, and three from each topic). A bloom has
 * false positives, never false negatives, so false is proof of absence; true means "ask for the logs".
 * A bloom of the wrong length proves nothing and gives true.
 */
export function bloomMayContainAddress(logsBloom: Hex, address: Address): boolean {
  const bloom = hexToBytes(logsBloom)
  if (bloom.length !== BLOOM_BYTES) return true
  const hash = hexToBytes(keccak256(hexToBytes(address)))
  for (let i = 0; i < 6; i += 2) {
    // The low 11 bits of each of the hash's first three byte pairs name a bit, counted from the bloom's last bit.
    const bit = ((hash[i]! << 8) | hash[i + 1]!) & 0x7ff
    const byte = BLOOM_BYTES - 1 - (bit >> 3)
    if ((bloom[byte]! & (1 << (bit & 7))) === 0) return false
  }
  return true
}
