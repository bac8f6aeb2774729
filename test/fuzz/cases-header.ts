/**
 * The `absurd-header` kind of encoding case (encoding-cases.ts): headers with absurd k, n, shard sizes, data sizes,
 * versions, lengths, networks, epochs and shapes, and shard counts that are not the member's assignment.
 */
import { assignShards } from '../../src/committee/assignment.ts'
import { blobIdOf } from '../../src/erasure/blob-id.ts'
import { decodeHeader, HEADER_SIZE } from '../../src/erasure/header.ts'
import { Choices, honestDeliveries, type MaliciousCase, RETRIEVALS_PER_CASE, retrievalsOf } from './cases-shared.ts'
import { FUZZ_MAX_BLOB_SIZE } from './encoding-members.ts'
import {
  type Commitment,
  canonicalShardSize,
  type ExpectedStore,
  expectedHeaderRefusal,
  expectedStore,
  MAX_SAFE,
  verdictOf,
  writeRaw,
} from './encoding-oracle.ts'

/** Which header field is made absurd. */
export const HEADER_ATTACKS = [
  'k-zero',
  'k-equals-n',
  'k-above-n',
  'n-above-max',
  'k-max',
  'n-max',
  'shard-size',
  'data-size-u64',
  'data-size-huge',
  'data-size-above-max',
  'data-size-other',
  'version',
  'truncated',
  'extended',
  'network',
  'epoch',
  'epoch-u64',
  'shape',
  'random',
  'shard-count',
] as const

/** The sequencer sends a header with an absurd field (and the shards it would have sent with the sound one). */
export function absurdCase(base: MaliciousCase, attack: string, choices: Choices): MaliciousCase {
  const main = base.main!.commitment
  const { k, n, dataSize } = main.header
  const c = base.committee.committee
  const bytes = main.headerBytes
  const canonical = (size: bigint, kk: number) => {
    const s = canonicalShardSize(size, kk)
    return s > 0xffff_ffffn ? choices.int(0, 0xffff_ffff) : Number(s)
  }
  let out: Uint8Array
  switch (attack) {
    case 'k-zero':
      out = writeRaw(bytes, { k: 0 })
      break
    case 'k-equals-n':
      out = writeRaw(bytes, { k: n, shardSize: canonical(BigInt(dataSize), n) })
      break
    case 'k-above-n': {
      const kk = choices.chance(0.5) ? n + choices.int(1, 100) : choices.int(n + 1, 0xffff_ffff)
      out = writeRaw(bytes, { k: kk, shardSize: canonical(BigInt(dataSize), Math.min(kk, 0xffff_ffff)) })
      break
    }
    case 'n-above-max':
      out = writeRaw(bytes, { n: choices.chance(0.5) ? 65537 + choices.int(0, 100) : choices.int(65537, 0xffff_ffff) })
      break
    case 'k-max':
      out = writeRaw(bytes, { k: 65535, n: 65536, shardSize: canonical(BigInt(dataSize), 65535) })
      break
    case 'n-max':
      out = writeRaw(bytes, { n: 65536 })
      break
    case 'shard-size': {
      const s = main.header.shardSize
      const wrong = choices.pick([0, 1, 63, s - 64, s + 64, s + 1, s - 1, s * 2, 0xffff_ffff])
      out = writeRaw(bytes, { shardSize: wrong === s ? s + 64 : wrong })
      break
    }
    case 'data-size-u64':
      out = writeRaw(bytes, {
        dataSize: MAX_SAFE + 1n + BigInt(choices.int(0, 0xffff_ffff)) * BigInt(choices.int(1, 0x7ff)),
      })
      break
    case 'data-size-huge': {
      // Sizes a u32 shard size can still hold at this k, and sizes it cannot.
      const size =
        BigInt(choices.int(FUZZ_MAX_BLOB_SIZE + 1, 0x7fff_ffff)) *
        BigInt(choices.chance(0.5) ? 1 : choices.int(2, 1 << 20))
      out = writeRaw(bytes, { dataSize: size, shardSize: canonical(size, k) })
      break
    }
    case 'data-size-above-max': {
      const size = BigInt(FUZZ_MAX_BLOB_SIZE + choices.int(1, 64 * 1024))
      out = writeRaw(bytes, { dataSize: size, shardSize: canonical(size, k) })
      break
    }
    case 'data-size-other': {
      // Another length over the same rows: sound when the policy gives that length the same shape (then the rows
      // decode to a prefix or a longer blob, or to nonzero-padding), refused otherwise.
      const size = BigInt(Math.max(0, dataSize + choices.int(-Math.min(dataSize, 4096), 4096)))
      out = writeRaw(bytes, { dataSize: size, shardSize: canonical(size, k) })
      break
    }
    case 'version':
      out = writeRaw(bytes, { version: choices.chance(0.5) ? 0 : choices.int(2, 255) })
      break
    case 'truncated':
      out = bytes.slice(0, choices.int(0, HEADER_SIZE - 1))
      break
    case 'extended':
      out = Buffer.concat([bytes, choices.bytes(choices.int(1, 16))])
      break
    case 'network':
      out = writeRaw(bytes, { networkId: (c.networkId + choices.int(1, 0xffff_fffe)) % 0x1_0000_0000 })
      break
    case 'epoch': {
      const other = c.epoch > 0 && choices.chance(0.5) ? choices.int(0, c.epoch - 1) : c.epoch + choices.int(1, 1000)
      out = writeRaw(bytes, { epoch: BigInt(other) })
      break
    }
    case 'epoch-u64':
      out = writeRaw(bytes, { epoch: MAX_SAFE + 1n + BigInt(choices.int(0, 0x7fff_ffff)) })
      break
    case 'shape': {
      // A (k, n) that is safe for the committee but not its shape for this size, with the canonical shard size.
      const options: [number, number][] = [
        [k, 2 * n],
        [k, n + 1],
        [k, n - 1],
      ]
      if (k > 1) options.push([k - 1, n])
      const [kk, nn] = choices.pick(options.filter(([a, b]) => b > a && b <= 65536))
      out = writeRaw(bytes, { k: kk, n: nn, shardSize: canonical(BigInt(dataSize), kk) })
      break
    }
    case 'random':
      out = choices.bytes(HEADER_SIZE)
      out[0] = 1
      break
    case 'shard-count': {
      // A sound header; each member announces a count other than its assignment.
      const deliveries = base.deliveries.map((d) => {
        const count = choices.pick([0, d.shards.length - 1, d.shards.length + 1, main.header.n + 1, 0xffff_ffff])
        const shardCount = count === d.shards.length ? d.shards.length + 1 : count
        return { ...d, shardCount, expect: { sign: false, code: 'NODE_WRONG_SHARDS', failing: 0 } as ExpectedStore }
      })
      return { ...base, deliveries }
    }
    default:
      throw new Error(`unknown header attack ${attack}`)
  }
  const refusal = expectedHeaderRefusal(out, base.committee)
  if (refusal === undefined) {
    // The change left a header members take (a length the policy gives the same shape): a sound header over the
    // same rows. With the same shard size it is a commitment of its own, whose stores are signed and whose verdict
    // the oracle gives again; with another shard size no row fits it, and every store is refused.
    const header = decodeHeader(out)
    const commitment: Commitment = { ...main, header, headerBytes: out, blobId: blobIdOf(out) }
    const deliveries = honestDeliveries(commitment, base.committee)
    if (header.shardSize !== main.header.shardSize) {
      const assignment = assignShards(c, commitment.blobId.bytes, header.n)
      for (const d of deliveries)
        d.expect = expectedStore(header, assignment.shardsOf(d.member), d.shards, d.shardCount)
      return { ...base, headerBytes: out, main: undefined, deliveries, retrievals: [] }
    }
    const choicesAgain = new Choices(base.plan.seed ^ 0x5bd1e995)
    return {
      ...base,
      headerBytes: out,
      main: { commitment, verdict: verdictOf(commitment) },
      deliveries,
      retrievals: retrievalsOf('main', commitment, base.committee, choicesAgain, main, RETRIEVALS_PER_CASE),
    }
  }
  const deliveries = base.deliveries.map((d) => ({
    ...d,
    headerBytes: out,
    expect: { sign: false, code: refusal, failing: 0 } as ExpectedStore,
  }))
  return { ...base, headerBytes: out, headerRefusal: refusal, main: undefined, deliveries, retrievals: [] }
}
