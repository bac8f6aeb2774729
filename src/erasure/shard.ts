/** One shard as it travels and is stored: its index in 0..n-1, its bytes, and its Merkle proof. */
export interface ShardWithProof {
  index: number
  data: Uint8Array
  /** Sibling hashes bottom-up, concatenated (see merkle.ts); length fixed by (index, n). */
  proof: Uint8Array
}

/** True for an original (systematic) shard, which holds blob bytes verbatim. */
export function isOriginal(index: number, k: number): boolean {
  return index < k
}
