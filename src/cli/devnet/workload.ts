import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { toHex } from 'viem'
import { certificateSigners } from '../../attest/certificate.ts'
import { certificateToJson } from '../../attest/certificate-codec.ts'
import { encodeOnchainCertificate } from '../../chain/onchain-certificate.ts'
import { verifyOnchain } from '../../chain/registry-client.ts'
import { DacnetError } from '../../errors.ts'
import { CliErrorCode } from '../errors.ts'
import { toJson, writeFileAtomic } from '../files.ts'
import type { DevnetRoles } from './roles.ts'

/** What the devnet reports per blob; also its `--json` line. */
export interface BlobOutcome {
  /** 1-based position in the run. */
  index: number
  blobId: string | null
  /** The epoch the blob was dispersed under. */
  epoch: number | null
  size: number
  /** Encoding plus dispersal, until the certificate (ms). */
  timeToCertificateMs: number | null
  encodeMs: number | null
  signedStake: string | null
  totalStake: string
  signers: number | null
  members: number
  confidence: number | null
  samples: number | null
  sampleMs: number | null
  /** Bytes of shard data and proofs the light client downloaded to sample the blob (SampleResult.bytes). */
  sampleBytes: number | null
  available: boolean
  /** Retrieval gave back exactly the bytes dispersed. */
  retrieved: boolean
  retrieveMs: number | null
  /**
   * With a chain: the verifier contract's verdict on the certificate's on-chain form (kept in
   * certificates/<blobId>.l1.hex) and the gas a contract pays to verify it.
   */
  l1?: { verified: boolean; gas: number } | null
  /** Certified, verified on the chain (if there is one), sampled available and retrieved intact. */
  ok: boolean
  certificate: string | null
  error: { stage: 'disperse' | 'l1' | 'sample' | 'retrieve'; code: string; message: string } | null
}

/**
 * One blob through the whole pipeline, as a rollup would use it: random bytes are dispersed into a
 * certificate (kept in certificates/<blobId>.json), the light client samples it, and the retriever gets
 * the bytes back from the committee. A failing stage is recorded and ends this blob, not the devnet.
 */
export async function runBlob(
  roles: DevnetRoles,
  index: number,
  size: number,
  certificatesDir: string,
  signal: AbortSignal,
): Promise<BlobOutcome> {
  const data = new Uint8Array(randomBytes(size))
  const outcome: BlobOutcome = {
    index,
    blobId: null,
    epoch: null,
    size,
    timeToCertificateMs: null,
    encodeMs: null,
    signedStake: null,
    totalStake: '0',
    signers: null,
    members: 0,
    confidence: null,
    samples: null,
    sampleMs: null,
    sampleBytes: null,
    available: false,
    retrieved: false,
    retrieveMs: null,
    ...(roles.chain ? { l1: null } : {}),
    ok: false,
    certificate: null,
    error: null,
  }
  let stage: NonNullable<BlobOutcome['error']>['stage'] = 'disperse'
  try {
    const started = performance.now()
    const dispersal = await roles.disperser.disperse(data, { signal })
    const { certificate } = dispersal
    outcome.timeToCertificateMs = round(performance.now() - started)
    outcome.encodeMs = round(dispersal.encodeMs)
    outcome.blobId = dispersal.blob.blobId.toString()
    outcome.signedStake = certificate.signedStake.toString()
    outcome.signers = certificateSigners(certificate).length
    outcome.epoch = certificate.epoch
    const committee = await roles.committees.getCommittee(certificate.epoch)
    outcome.totalStake = committee.totalStake.toString()
    outcome.members = committee.size
    outcome.certificate = join(certificatesDir, `${outcome.blobId}.json`)
    await writeFileAtomic(outcome.certificate, `${toJson(certificateToJson(certificate))}\n`)

    if (roles.chain) {
      stage = 'l1'
      const { recordIndex } = await roles.chain.source.committeeRecord(certificate.epoch)
      const onchain = encodeOnchainCertificate(certificate, committee, { recordIndex })
      await writeFileAtomic(join(certificatesDir, `${outcome.blobId}.l1.hex`), `${toHex(onchain)}\n`)
      const verdict = await verifyOnchain(roles.chain.publicClient, roles.chain.chain.file.certificateVerifier, onchain)
      outcome.l1 = { verified: verdict.verified, gas: Number(verdict.gas) }
    }

    stage = 'sample'
    const sampled = await roles.lightClient.sample(certificate, { signal })
    outcome.confidence = sampled.confidence
    outcome.samples = sampled.samples
    outcome.sampleMs = round(sampled.ms)
    outcome.sampleBytes = sampled.bytes
    outcome.available = sampled.available

    stage = 'retrieve'
    const retrieveStart = performance.now()
    const back = await roles.retriever.retrieve(certificate, { signal })
    outcome.retrieveMs = round(performance.now() - retrieveStart)
    outcome.retrieved = back.kind === 'ok' && Buffer.from(back.data).equals(Buffer.from(data))
  } catch (err) {
    outcome.error = {
      stage,
      code: err instanceof DacnetError ? err.code : CliErrorCode.INTERNAL,
      message: (err as Error).message,
    }
  }
  outcome.ok =
    outcome.blobId !== null &&
    outcome.available &&
    outcome.retrieved &&
    (roles.chain ? outcome.l1?.verified === true : true)
  return outcome
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
