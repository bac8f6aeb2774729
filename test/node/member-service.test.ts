import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyAttestation } from '../../src/attest/attestation.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { assignShards } from '../../src/committee/assignment.ts'
import { isSafeEncoding } from '../../src/committee/params.ts'
import type { EncodedBlob } from '../../src/erasure/encode.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import { Shard, StoreRequest, StoreResponse } from '../../src/p2p/pb/dacnet.js'
import { STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { sendStore } from '../../src/p2p/store.ts'
import { MAX_RETENTION_MS } from '../../src/storage/index.ts'
import { withProofs } from '../erasure/helpers.ts'
import { failureOf } from '../p2p/helpers.ts'
import { registryOf, removeDirs, startMember } from './harness.ts'
import {
  committee,
  committees,
  epochEntry,
  freshBlob,
  identities,
  MAX_BLOB,
  member,
  NETWORK,
  sequencer,
  setUpMember,
  tearDownMember,
} from './member-setup.ts'

/**
 * The checks a member makes on a registered sequencer's store (docs/PROTOCOL.md §3.3), over the wire: one real
 * committee node (libp2p on loopback, LevelDB in a temp dir) of a three-member committee. Every refusal must
 * carry its documented code and leave nothing stored.
 */

beforeAll(setUpMember)

afterAll(tearDownMember)

const self = () => committee.memberByPublicKey(identities[0]!.publicKey)!

/** The shards the committee assigns to the running member, with proofs. */
function shareOf(blob: EncodedBlob): ShardWithProof[] {
  const all = withProofs(blob)
  return assignShards(committee, blob.blobId.bytes, blob.header.n)
    .shardsOf(self().index)
    .map((i) => all[i]!)
}

/** Stores and returns the refusal's code (asserting it came from the member), or 'ok'. */
async function storeOutcome(headerBytes: Uint8Array, shards: readonly ShardWithProof[]): Promise<string> {
  const err = await failureOf(sendStore(sequencer, member.node.libp2p.getMultiaddrs(), headerBytes, shards))
  if (err === undefined) return 'ok'
  expect(err.meta?.remote).toBe(true)
  return err.code ?? err.message
}

async function expectNothingStored(blob: EncodedBlob): Promise<void> {
  expect(await member.node.store.hasBlob(blob.blobId)).toBe(false)
  expect(await member.node.store.getAttestation(blob.blobId)).toBeUndefined()
}

describe('a member refuses a header that is not its committee’s', () => {
  it('another network id: NODE_HEADER_MISMATCH', async () => {
    const blob = freshBlob({ networkId: NETWORK + 1 })
    expect(await storeOutcome(blob.headerBytes, shareOf(blob))).toBe(NodeErrorCode.HEADER_MISMATCH)
    await expectNothingStored(blob)
  })

  it("a (k, n) other than the policy's for its size, even a safe one: NODE_HEADER_MISMATCH (before the count)", async () => {
    // Members admit only the committee's shape for the blob's size (dispersal policy, PROTOCOL.md §2.3, §3.3
    // step 6), although a certificate for (k, 2n), (k, n + 1), (k - 1, n) or another size's shape would verify.
    const { k, n } = committee.shapeFor(20_000)
    expect({ k, n }).toEqual({ k: 8, n: 32 }) // 3 members: kMax(32) = 10 - 2, shards of 2,560 bytes
    const big = committee.shapeFor(1024 * 1024)
    const others = [{ n: 2 * n }, { n: n + 1 }, { k: k - 1 }, big]
    for (const o of others) expect(isSafeEncoding(committee, o.k ?? k, o.n ?? n)).toBe(true)
    expect(isSafeEncoding(committee, k + 1, n)).toBe(false)
    for (const params of [{ k: k + 1 }, ...others]) {
      const blob = freshBlob(params)
      // As many shards as the member is assigned under the header's n.
      const count = assignShards(committee, blob.blobId.bytes, blob.header.n).shardsOf(self().index).length
      expect(await storeOutcome(blob.headerBytes, withProofs(blob).slice(0, count))).toBe(NodeErrorCode.HEADER_MISMATCH)
      await expectNothingStored(blob)
    }
  })

  it('a blob above the maximum size: NODE_HEADER_MISMATCH; one of exactly the maximum is taken', async () => {
    const over = freshBlob({ size: MAX_BLOB + 1 })
    expect(await storeOutcome(over.headerBytes, shareOf(over))).toBe(NodeErrorCode.HEADER_MISMATCH)
    await expectNothingStored(over)
    const exact = freshBlob({ size: MAX_BLOB })
    expect(await storeOutcome(exact.headerBytes, shareOf(exact))).toBe('ok')
  })

  it('a shard size that is not the one for (dataSize, k): ERASURE_HEADER_INVALID', async () => {
    // The shard size is not a committee parameter: it follows from dataSize and k, and the header decoder
    // refuses any other (docs/PROTOCOL.md §3.3 step 2).
    const blob = freshBlob()
    const header = blob.headerBytes.slice()
    const view = new DataView(header.buffer)
    view.setUint32(29, blob.header.shardSize + 64)
    expect(await storeOutcome(header, shareOf(blob))).toBe('ERASURE_HEADER_INVALID')
    await expectNothingStored(blob)
  })
})

describe('a member refuses shards that are not its assignment', () => {
  it('too few or too many: NODE_WRONG_SHARDS', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    expect(share.length).toBeGreaterThanOrEqual(2)
    const other = withProofs(blob).find((s) => !share.some((mine) => mine.index === s.index))!
    expect(await storeOutcome(blob.headerBytes, share.slice(1))).toBe(NodeErrorCode.WRONG_SHARDS)
    expect(await storeOutcome(blob.headerBytes, [...share, other])).toBe(NodeErrorCode.WRONG_SHARDS)
    expect(await storeOutcome(blob.headerBytes, [])).toBe(NodeErrorCode.WRONG_SHARDS)
    await expectNothingStored(blob)
  })

  it('the right count with another index, or a repeated one: NODE_WRONG_SHARDS', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    // A shard of someone else's run, with its valid proof, in place of one of ours.
    const other = withProofs(blob).find((s) => !share.some((mine) => mine.index === s.index))!
    expect(await storeOutcome(blob.headerBytes, [...share.slice(0, -1), other])).toBe(NodeErrorCode.WRONG_SHARDS)
    expect(await storeOutcome(blob.headerBytes, [...share.slice(0, -1), share[0]!])).toBe(NodeErrorCode.WRONG_SHARDS)
    await expectNothingStored(blob)
    // The order they come in does not matter.
    expect(await storeOutcome(blob.headerBytes, [...share].reverse())).toBe('ok')
  })
})

describe('a member checks every Merkle proof before it stores or signs', () => {
  it('refuses a changed shard, a changed proof or another shard’s proof, then takes the honest store', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    const last = share.length - 1
    const flip = (bytes: Uint8Array, at: number) => {
      const copy = bytes.slice()
      copy[at]! ^= 0x01
      return copy
    }
    const tampered: ShardWithProof[][] = [
      share.map((s, i) => (i === last ? { ...s, data: flip(s.data, 7) } : s)),
      share.map((s, i) => (i === last ? { ...s, proof: flip(s.proof, 0) } : s)),
      share.map((s, i) => (i === 0 ? { ...s, proof: share[last]!.proof } : s)),
    ]
    for (const shards of tampered) {
      expect(await storeOutcome(blob.headerBytes, shards)).toBe('STORAGE_INVALID_PROOF')
      await expectNothingStored(blob)
    }
    // A shard of the wrong length (the frame limit allows it; the store does not).
    const short = share.map((s, i) => (i === 0 ? { ...s, data: s.data.subarray(1) } : s))
    expect(await storeOutcome(blob.headerBytes, short)).toBe('STORAGE_INVALID_SHARD')
    await expectNothingStored(blob)
    // The refusals left nothing behind that gets in the way of the honest store.
    expect(await storeOutcome(blob.headerBytes, share)).toBe('ok')
    expect((await member.node.store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual(share.map((s) => s.index))
  })
  it('a bad proof is refused before the rule on bytes after the last shard: STORAGE_INVALID_PROOF, nothing stored', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    const bad = share.map((s, i) => (i === 1 ? { ...s, proof: s.proof.slice().fill(9) } : s))
    // By hand: the request, the share with shard 2's proof broken, then a frame too many (PROTOCOL.md §3.3).
    const stream = await sequencer.dialProtocol(member.node.libp2p.getMultiaddrs(), STORE_PROTOCOL)
    const reader = new FrameReader(stream)
    try {
      await writeFrame(stream, StoreRequest.encode({ header: blob.headerBytes, shardCount: bad.length }))
      for (const shard of [...bad, share[0]!]) await writeFrame(stream, Shard.encode(shard))
      await stream.close()
      const response = StoreResponse.decode(await reader.expect(4096, 'the store response'))
      expect([response.errorCode, response.signature.length]).toEqual(['STORAGE_INVALID_PROOF', 0])
    } finally {
      reader.release()
    }
    await expectNothingStored(blob)
  })
})

describe('storing the same blob again', () => {
  it('answers with a byte-identical signature, the one it kept, and writes nothing new', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    const attested: boolean[] = []
    const onAttested = (e: { fresh: boolean }) => attested.push(e.fresh)
    member.node.events.on('attested', onAttested)
    try {
      const peer = member.node.libp2p.getMultiaddrs()
      const first = await sendStore(sequencer, peer, blob.headerBytes, share)
      const second = await sendStore(sequencer, peer, blob.headerBytes, [...share].reverse())
      expect(first).toHaveLength(96)
      expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true)
      const kept = await member.node.store.getAttestation(blob.blobId)
      expect(Buffer.from(kept!).equals(Buffer.from(first))).toBe(true)
      // It is the member's valid attestation of this blob, not just any 96 bytes.
      const context = attestationContextOf(blob.header)
      const signer = verifyAttestation(
        { ...context, publicKey: identities[0]!.publicKey, signature: second },
        committee,
        context,
      )
      expect(signer.index).toBe(self().index)
      expect(attested).toEqual([true, false])
    } finally {
      member.node.events.off('attested', onAttested)
    }
  })
})

describe('stores received at once', () => {
  it('refuses a store past the share bytes being received with NODE_BUSY, and takes it once those are gone', async () => {
    // A second member that receives one store at a time.
    const second = await startMember(identities[1]!, committees, {
      maxBlobSize: MAX_BLOB,
      announceProviders: false,
      maxIntakeBytes: 1,
    })
    try {
      const peer = second.node.libp2p.getMultiaddrs()
      const index = committee.memberByPublicKey(identities[1]!.publicKey)!.index
      const shareOfSecond = (blob: EncodedBlob) => {
        const all = withProofs(blob)
        return assignShards(committee, blob.blobId.bytes, blob.header.n)
          .shardsOf(index)
          .map((i) => all[i]!)
      }
      const held = freshBlob()
      const next = freshBlob()
      // A store that announces its share and sends none of it: admitted, its bytes reserved while it waits.
      const stream = await sequencer.dialProtocol(peer, STORE_PROTOCOL)
      await writeFrame(
        stream,
        StoreRequest.encode({ header: held.headerBytes, shardCount: shareOfSecond(held).length }),
      )
      await new Promise((resolve) => setTimeout(resolve, 300))
      const busy = await failureOf(sendStore(sequencer, peer, next.headerBytes, shareOfSecond(next)))
      expect(busy?.code).toBe(NodeErrorCode.BUSY)
      expect(busy?.meta?.['remote']).toBe(true)
      // The held store goes away (its sender reset it): its reservation with it.
      stream.abort(new Error('gone'))
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await sendStore(sequencer, peer, next.headerBytes, shareOfSecond(next))).toHaveLength(96)
      expect(await second.node.store.hasBlob(held.blobId)).toBe(false)
      // A store that ended stored gives its bytes back too.
      const after = freshBlob()
      expect(await sendStore(sequencer, peer, after.headerBytes, shareOfSecond(after))).toHaveLength(96)
    } finally {
      await second.node.stop()
      await removeDirs([second.dir])
    }
  })
})

describe('a committee whose retention is longer than a store keeps anything', () => {
  it('stores for a hundred years instead of refusing every store of the epoch', async () => {
    // A registry's retention is any u64 of seconds: 10^13 s is past what a store's expiry can hold in ms.
    committees.registry = registryOf(NETWORK, [epochEntry(0), epochEntry(1, { retentionSeconds: 10 ** 13 })])
    const blob = freshBlob({ epoch: 1 })
    expect(await storeOutcome(blob.headerBytes, shareOf(blob))).toBe('ok')
    const info = await member.node.store.getBlobInfo(blob.blobId)
    // The expiry is set as the intake opens, the store time as it commits: a few ms apart.
    expect(info!.expiresAt - info!.storedAt).toBeLessThanOrEqual(MAX_RETENTION_MS)
    expect(info!.expiresAt - info!.storedAt).toBeGreaterThan(MAX_RETENTION_MS - 60_000)
  })
})
