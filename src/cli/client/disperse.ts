import type { PrivateKey } from '@libp2p/interface'
import { certificateToJson, encodeCertificate } from '../../attest/certificate-codec.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../../erasure/params.ts'
import type { MemberFailure } from '../../node/disperser.ts'
import { publishCertificate } from '../../p2p/gossip.ts'
import type { CommandContext } from '../context.ts'
import { checkOutputDir, readFileChecked, toJson, writeFileAtomic } from '../files.ts'
import { formatMs, formatStake } from '../format.ts'
import { bar, ProgressLine } from '../progress.ts'
import { formatBytes } from '../size.ts'
import { readPeerKey, startClient, waitForGossipPeers } from './connect.ts'
import { type ClientCommittees, type CommitteeChoice, openCommitteeSource } from './source.ts'

export interface DisperseFileOptions {
  file: string
  keyPath: string
  committees: CommitteeChoice
  bootstrap?: string[] | undefined
  out?: string | undefined
  maxBlobSize?: number | undefined
  memberTimeoutMs: number
}

/**
 * `dacnet disperse`: reads the file (refusing one above the blob limit before reading it), connects to
 * the committee as the sequencer, and prints the certificate. Progress: encoded, shares sent, signed stake
 * against the threshold, members answered.
 */
export async function disperseFile(ctx: CommandContext, opts: DisperseFileOptions): Promise<void> {
  if (opts.out) await checkOutputDir(opts.out)
  const maxBlobSize = opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE
  const bytes = await readFileChecked(opts.file, 'file', maxBlobSize, {
    hint: 'split the data, or raise --max-blob-size (members refuse blobs above their own maximum)',
  })
  const privateKey = await readPeerKey(opts.keyPath)
  const committees = await openCommitteeSource(opts.committees)
  try {
    await disperseWith(ctx, opts, bytes, privateKey, committees)
  } finally {
    await committees.stop()
  }
}

async function disperseWith(
  ctx: CommandContext,
  opts: DisperseFileOptions,
  bytes: Buffer,
  privateKey: PrivateKey,
  committees: ClientCommittees,
): Promise<void> {
  const maxBlobSize = opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE
  // The epoch in force now; the disperser asks again and uses the same one unless the chain moved on meanwhile.
  const committee = await committees.current()
  const progress = new ProgressLine(ctx.io)
  const members = committee.size
  const threshold = Number(committee.threshold.num) / Number(committee.threshold.den)
  let answered = 0
  let sent = 0
  let sentBytes = 0
  let signed = 0n
  let encoded = ''
  const failures: MemberFailure[] = []
  const draw = () =>
    progress.update(
      `${encoded} sent ${sent}/${members} (${formatBytes(sentBytes)}) · ${bar(Number((signed * 1000n) / committee.totalStake) / 1000, threshold)} signed ${formatStake(signed, committee.totalStake)} · ${answered}/${members} answered`,
    )
  progress.update(`connecting to the ${members} members of epoch ${committee.epoch}…`, true)
  // Published here rather than by the disperser, so that this short-lived process waits for the send.
  const client = await startClient(committees.source, {
    bootstrap: opts.bootstrap,
    privateKey,
    disperser: { maxBlobSize, memberTimeoutMs: opts.memberTimeoutMs, publish: false },
    warmPool: true,
  })
  const { disperser } = client
  progress.update(`encoding ${formatBytes(bytes.length)}…`, true)
  try {
    const result = await ctx.interruptible((signal) =>
      disperser.disperse(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
        signal,
        onEncoded: (info) => {
          encoded = `encoded ${info.shards} shards in ${formatMs(info.encodeMs)} ·`
          draw()
        },
        onSent: (info) => {
          sent++
          sentBytes += info.bytes
          draw()
        },
        onReceipt: (receipt) => {
          answered++
          signed = receipt.signedStake
          draw()
        },
        onFailure: (failure) => {
          answered++
          failures.push(failure)
          draw()
        },
      }),
    )
    progress.flush()
    progress.clear()
    const { certificate } = result
    const json = `${toJson(certificateToJson(certificate))}\n`
    const blobId = result.blob.blobId.toString()
    ctx.note(
      `certified ${blobId}: ${formatBytes(bytes.length)}, signed stake ${formatStake(certificate.signedStake, committee.totalStake)}, in ${formatMs(result.encodeMs + result.certifyMs)}`,
    )
    for (const f of failures) ctx.note(`  member ${f.member} (${f.peerId}) failed: ${f.code}: ${f.message}`)
    // The certificate first: a Ctrl-C during the gossip wait below must not lose it.
    if (opts.out) {
      await writeFileAtomic(opts.out, json)
      ctx.io.out(`${blobId}\n`)
    } else {
      ctx.io.out(json)
    }
    await waitForGossipPeers(client.libp2p, 1)
    const recipients = await publishCertificate(client.libp2p, encodeCertificate(certificate)).catch(() => 0)
    if (recipients === 0) ctx.note('note: the certificate went to no gossip peer; members keep it once it is gossiped')
  } finally {
    progress.clear()
    await client.stop()
  }
}
