/**
 * One dispersal taken apart: each step of the path measured alone, in this process, on the very blob a cluster
 * dispersed (re-encoded with the same header, so the same shards, proofs and blob id), set beside the end-to-end
 * time to certificate. The overhead ratio is end-to-end over the sum of the parts: what the pieces do not
 * explain — scheduling on shared cores, copies into and out of the erasure worker, protobuf framing, waiting.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Aggregator } from '../../src/attest/aggregator.ts'
import { signAttestation } from '../../src/attest/attestation.ts'
import { certificateBlobId } from '../../src/attest/certificate.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { checkShard } from '../../src/erasure/decode.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { type BlobHeader, encodeHeader } from '../../src/erasure/header.ts'
import { splitBlob } from '../../src/erasure/layout.ts'
import { buildMerkleTree, merkleProof } from '../../src/erasure/merkle.ts'
import { rsEncode } from '../../src/erasure/rs/index.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { ShardStore } from '../../src/storage/index.ts'
import { type BenchRow, median, timeRuns } from '../lib.ts'
import { trackDir, untrackDir } from './cleanup.ts'
import type { BenchCluster } from './cluster.ts'
import { type Cell, round } from './dispersal.ts'
import { implOf, MiB, row, sizeLabel } from './rows.ts'
import type { Sink } from './sink.ts'

/** The goal for end-to-end over the sum of the parts, for a 16 MiB blob on 16 members. */
const OVERHEAD_GOAL = 1.5
/** Signing takes well under a millisecond: more runs for a stable median. */
const SIGN_RUNS = 50

export async function breakdownRows(
  cluster: BenchCluster,
  cell: Cell,
  runs: number,
  sink: Sink,
  signal: AbortSignal,
): Promise<BenchRow[]> {
  const times = cell.dispersed.map((d) => d.ms)
  const endToEnd = median(times)
  // The blob whose time is nearest the median: its shares and the order its attestations came in.
  const pick = times.indexOf([...times].sort((a, b) => Math.abs(a - endToEnd) - Math.abs(b - endToEnd))[0]!)
  const dispersed = cell.dispersed[pick]!
  const data = cell.blobs.blob(pick)
  const { header } = dispersed
  const { k, n } = header
  const params = { networkId: header.networkId, epoch: header.epoch, k, n }
  const encoded = encodeBlob(data, params)
  if (encoded.blobId.toString() !== certificateBlobId(dispersed.certificate).toString())
    throw new Error('re-encoding gave another blob id')

  // Encode: the Reed–Solomon extension of the k originals to n shards (splitting the blob included).
  const encode = await timeRuns(() => rsEncode(splitBlob(data, k), n - k), runs, 1)
  // Hash: the Merkle tree over the n shards and a proof for each.
  const hash = await timeRuns(
    () => {
      const tree = buildMerkleTree(encoded.shards)
      for (let i = 0; i < n; i++) merkleProof(tree, i)
    },
    runs,
    1,
  )
  const whole = await timeRuns(() => encodeBlob(data, params), runs, 1)

  // Transfer: every member's share, each on its own stream, to one process over loopback, until all answered.
  const shares = [...dispersed.sentShards].map(([member, frames]) => ({
    frames,
    frameBytes: Math.round(dispersed.sent.get(member)! / frames),
  }))
  const transferBytes = [...dispersed.sent.values()].reduce((a, b) => a + b, 0)
  await sink.send(shares, signal)
  const transfer: number[] = []
  for (let i = 0; i < runs; i++) transfer.push(await sink.send(shares, signal))

  // The largest share: the member whose store the certificate is most likely to wait for.
  const [largest, largestShards] = [...dispersed.sentShards].sort((a, b) => b[1] - a[1])[0]!
  const share: ShardWithProof[] = Array.from({ length: largestShards }, (_, i) => ({
    index: i,
    data: encoded.shards[i]!,
    proof: encoded.proofs[i]!,
  }))
  const shareBytes = share.reduce((sum, s) => sum + s.data.length + s.proof.length, 0)
  const verify = await timeRuns(
    () => {
      for (const shard of share) if (checkShard(header, shard) !== null) throw new Error('a shard failed its proof')
    },
    runs,
    1,
  )
  const store = await intakeTimes(share, header, cluster.committee.retentionSeconds * 1000, runs)

  const keys = await cluster.secretKeys()
  const context = attestationContextOf(header)
  const sign = await timeRuns(() => signAttestation(keys[largest]!, context), SIGN_RUNS, 5)
  const attestations = keys.map((key) => signAttestation(key, context))
  const order = dispersed.receiptOrder.length > 0 ? dispersed.receiptOrder : keys.map((_, i) => i)
  // The attestations that reach q, in the order they arrived in that dispersal, offered together: the aggregator
  // checks a queue that could complete q at once, in one batch, as it does for the last arrivals of a dispersal
  // (earlier ones are checked while it waits for members, off the path to the certificate).
  const toThreshold: number[] = []
  let stake = 0n
  for (const member of order) {
    toThreshold.push(member)
    stake += cluster.committee.members[member]!.stake
    if (cluster.committee.reachesThreshold(stake)) break
  }
  const signersToThreshold = toThreshold.length
  const aggregate = await timeRuns(
    async () => {
      const aggregator = new Aggregator({ committee: cluster.committee, header })
      await Promise.all(toThreshold.map((member) => aggregator.add(attestations[member]!)))
      aggregator.certificate()
    },
    runs * 4,
    2,
  )

  const parts = { encode, hash, transfer, store, sign, aggregate }
  const sum = Object.values(parts).reduce((total, t) => total + median(t), 0)
  const what = `breakdown of one ${sizeLabel(header.dataSize)} dispersal, ${cluster.size} members`
  const common = { impl: implOf(cluster.kind), higherIsBetter: false }
  const part = (name: string, t: number[], extra: Record<string, unknown>) =>
    row(`${what}: ${name}`, median(t), 'ms', t.length, { ...common, extra })
  const atGoal = header.dataSize === 16 * MiB && cluster.size === 16
  return [
    part('encode (Reed-Solomon extension)', encode, {
      k,
      n,
      shardSize: header.shardSize,
      encodeBlobMs: round(median(whole)),
      inPathEncodeMsP50: round(median(cell.dispersed.map((d) => d.encodeMs))),
    }),
    part('hash (Merkle tree and n proofs)', hash, { leaves: n }),
    part('transfer (libp2p loopback, every share)', transfer, {
      bytes: transferBytes,
      streams: shares.length,
      MBps: round(transferBytes / 1e6 / (median(transfer) / 1e3)),
    }),
    part('verify (proofs of the largest share; inside store, not added)', verify, { shards: largestShards }),
    part('store (the largest share through a shard-store intake, synced)', store, {
      shards: largestShards,
      bytes: shareBytes,
    }),
    part('sign (one attestation)', sign, {}),
    part('aggregate (attestations to the threshold, checked in one batch)', aggregate, {
      attestations: signersToThreshold,
    }),
    row(`${what}: end to end (time to certificate p50)`, endToEnd, 'ms', times.length, { ...common }),
    row(`${what}: sum of the parts`, sum, 'ms', 1, {
      ...common,
      extra: { parts: 'encode + hash + transfer + store + sign + aggregate' },
    }),
    row(`${what}: overhead (end to end / sum of the parts)`, endToEnd / sum, 'x', 1, {
      ...common,
      ...(atGoal ? { goal: OVERHEAD_GOAL } : {}),
    }),
  ]
}

/**
 * One share into a fresh store as a member stores it: an intake opened, the share added (one run: proofs checked,
 * shards copied into the batch), committed with sync; each run under another blob id.
 */
async function intakeTimes(
  share: ShardWithProof[],
  header: BlobHeader,
  retentionMs: number,
  runs: number,
): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'dacnet-bench-e2e-store-'))
  trackDir(dir)
  try {
    const store = await ShardStore.open(dir, { backgroundPrune: false })
    try {
      // Another epoch in the header is another blob id with the same root, so the same proofs hold.
      let epoch = header.epoch
      return await timeRuns(
        async () => {
          const intake = await store.openIntake(encodeHeader({ ...header, epoch: ++epoch }), { retentionMs })
          intake.add(share)
          await intake.commit()
        },
        runs,
        1,
      )
    } finally {
      await store.close()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    untrackDir(dir)
  }
}
