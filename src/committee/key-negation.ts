/**
 * Keys that cancel. A certificate's aggregate key is the sum of its signers' keys, so a set of members whose
 * keys add up to the point at infinity changes nothing in that sum: a certificate can list them as signers,
 * and count their stake, without any of them having signed. The cheapest such set is a key P and its negation
 * -P, and anyone holding sk can make both: -P's secret is r - sk, so -P comes with a valid proof of possession
 * of its own. A committee therefore refuses two members with the same x coordinate, whatever its source (the
 * registry contract refuses such a registration too, PROTOCOL.md §4.2); this module finds them from the bytes.
 *
 * Larger cancelling sets (P1 + ... + Pm = 0 with m >= 3) are not searched for: finding one is a subset-sum
 * problem in the group, and no honest member can be part of one. Every key carries a proof of possession, so
 * whoever registered a key knows its secret (nobody can sign with a key whose secret they lack, which is what
 * defeats rogue keys pk' = pk_attacker - pk_honest). Keys that sum to infinity have secrets that sum to 0 mod
 * r; if such a set held an honest key, the parties owning the other keys would know the honest secret, as minus
 * the sum of their own, which is a discrete logarithm they cannot compute. So every key of a cancelling set
 * belongs to one party (or a coalition sharing its secrets) that could sign for all of them anyway: counting
 * them without signatures gives it nothing its own signatures would not, and its stake is adversarial stake,
 * which the safety rule (q > f, PROTOCOL.md §2.3) already allows for.
 */

/** ZCash compressed-encoding flags, in the first byte: compressed, infinity, and the sign of y. */
const COMPRESSED = 0x80
const INFINITY = 0x40
const SIGN = 0x20

/**
 * The compressed encoding of -P, given that of a finite point P: the same x with the sign bit flipped (y and
 * p - y differ in sign, and a point of the G1 subgroup never has y = 0). Undefined when the flags do not encode
 * a finite compressed point; such a key is refused as malformed by the key checks.
 */
export function negatedKeyEncoding(publicKey: Uint8Array): Uint8Array | undefined {
  if (publicKey.length === 0 || (publicKey[0]! & (COMPRESSED | INFINITY)) !== COMPRESSED) return undefined
  const negated = publicKey.slice()
  negated[0]! ^= SIGN
  return negated
}
