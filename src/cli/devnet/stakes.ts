/**
 * Unequal devnet stakes for any committee size: member i (from 0) holds round(600 / (i + 2)), a Zipf-like
 * spread — 300, 200, 150, 120, 100, 86 for six members, the shape of real staking sets where a few large
 * holders sit next to many small ones. Signing and sampling then depend on stake, not on member count.
 */
export function devnetStakes(members: number): bigint[] {
  return Array.from({ length: members }, (_, i) => BigInt(Math.max(1, Math.round(600 / (i + 2)))))
}
