import { basename } from 'node:path'
import type { Certificate } from '../../attest/certificate.ts'
import { MAX_CERTIFICATE_SIZE } from '../../attest/certificate-codec.ts'
import { verifyCertificate } from '../../attest/verify-certificate.ts'
import { ChainErrorCode } from '../../chain/errors.ts'
import {
  decodeOnchainCertificate,
  encodeOnchainCertificate,
  OnchainCheckReason,
  WITNESS_FIXED_SIZE,
} from '../../chain/onchain-certificate.ts'
import { verifyOnchain } from '../../chain/registry-client.ts'
import type { Committee } from '../../committee/committee.ts'
import { MAX_MEMBERS } from '../../committee/validate.ts'
import { DacnetError } from '../../errors.ts'
import { parseCertificateBytes } from '../client/certificate-input.ts'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { readFileChecked, toJson, writeFileAtomic } from '../files.ts'
import { type ChainSession, type ChainTarget, openSession, tokens } from './connect.ts'
import { chainCommitteeSource } from './source.ts'

/** The suffix of an on-chain form file: 0x hex of the bytes a contract passes to the verifier. */
export const ONCHAIN_SUFFIX = '.l1.hex'
/**
 * The largest on-chain form: the largest certificate, the witness, and for every member a non-signer entry and a
 * proof hash (a generous bound on the multiproof), as hex. About 21 MB.
 */
const MAX_ONCHAIN_HEX_BYTES = 2 * (MAX_CERTIFICATE_SIZE + WITNESS_FIXED_SIZE + MAX_MEMBERS * (128 + 32)) + 4096

/** What each `checkCertificate` reason means (docs/PROTOCOL.md §4.5, "Verification"). */
export const REASONS: Readonly<Record<number, { name: string; meaning: string }>> = {
  [OnchainCheckReason.VALID]: { name: 'valid', meaning: 'every check passed' },
  [OnchainCheckReason.MALFORMED]: {
    name: 'malformed',
    meaning: 'the certificate layout or a witness length is wrong (step 1)',
  },
  [OnchainCheckReason.WRONG_NETWORK]: {
    name: 'wrong network',
    meaning: "the header names another network than the registry's (step 2)",
  },
  [OnchainCheckReason.UNKNOWN_EPOCH]: {
    name: 'unknown epoch or record',
    meaning: 'the epoch is after the current one, or the record does not hold it (steps 2-3)',
  },
  [OnchainCheckReason.SUMMARY_MISMATCH]: {
    name: 'summary mismatch',
    meaning: "the witness's committee summary is not the record's (step 3)",
  },
  [OnchainCheckReason.MEMBER_COUNT_OR_ENCODING]: {
    name: 'member count or encoding',
    meaning: "the member count is not the committee's, or (k, n) is not safe for it (step 4)",
  },
  [OnchainCheckReason.MEMBERS_ROOT]: {
    name: 'members root',
    meaning: 'the non-signers and the proof do not give the members root (step 5)',
  },
  [OnchainCheckReason.STAKE]: {
    name: 'stake',
    meaning: "no signer, the signed stake is not the signers' stake, or it is below the threshold (steps 5-6)",
  },
  [OnchainCheckReason.SIGNATURE]: {
    name: 'signature',
    meaning: 'the aggregate signature is malformed or does not verify (step 7)',
  },
}

export interface ChainVerifyOptions {
  /** Absolute path of the certificate (JSON or binary) or on-chain form (0x hex). */
  path: string
  target: ChainTarget
  /** Write the on-chain form here (0x hex). */
  out?: string | undefined
  json: boolean
}

type Input = { kind: 'certificate'; certificate: Certificate } | { kind: 'onchain'; bytes: Uint8Array }

/**
 * `dacnet chain verify`: asks the verifier contract about a certificate (its on-chain form built against the
 * committee the chain gives for its epoch) or about an on-chain form as given, and checks the certificate
 * off-chain against the same committee. Exits non-zero (CLI_CERTIFICATE_REFUSED) when either refuses it.
 */
export async function chainVerify(ctx: CommandContext, opts: ChainVerifyOptions): Promise<void> {
  const input = await readInput(opts.path)
  const { target } = opts
  const session = await openSession({ rpcUrl: target.rpcUrl, registry: target.file.registry, file: target.file })
  const source = chainCommitteeSource(target)
  try {
    let certificate: Certificate | undefined
    let bytes: Uint8Array | undefined
    let recordIndex: number | undefined
    let committee: Committee | undefined
    let problem: DacnetError | undefined
    try {
      if (input.kind === 'onchain') {
        // The contract is asked about the bytes as given, even when they do not decode (it answers malformed).
        bytes = input.bytes
        const decoded = decodeOnchainCertificate(input.bytes)
        certificate = decoded.certificate
        recordIndex = decoded.witness.recordIndex
        committee = await source.getCommittee(certificate.epoch)
      } else {
        certificate = input.certificate
        committee = await source.getCommittee(certificate.epoch)
        recordIndex = (await source.committeeRecord(certificate.epoch)).recordIndex
        bytes = encodeOnchainCertificate(certificate, committee, { recordIndex })
      }
    } catch (err) {
      // What the certificate is (malformed, of an epoch without a committee, not covering it) is a verdict; an
      // RPC that fails is not.
      if (!(err instanceof DacnetError) || err.code === ChainErrorCode.UNAVAILABLE) throw err
      problem = err
    }
    if (bytes !== undefined && opts.out !== undefined) {
      await writeFileAtomic(opts.out, `0x${Buffer.from(bytes).toString('hex')}\n`)
    }
    const onchain =
      bytes === undefined
        ? undefined
        : await verifyOnchain(session.publicClient, target.file.certificateVerifier, bytes)
    const offchain = offchainVerdict(certificate, committee, problem)
    const report = {
      verified: onchain?.verified === true && offchain.valid,
      onchain:
        onchain === undefined
          ? { verified: false, reason: null, name: null, meaning: null, gas: null, notAsked: problem!.message }
          : {
              verified: onchain.verified,
              reason: onchain.reason,
              ...(REASONS[onchain.reason] ?? { name: 'unknown', meaning: 'a reason this dacnet does not know' }),
              gas: onchain.gas,
              recordIndex: recordIndex ?? null,
              verifier: target.file.certificateVerifier,
            },
      offchain,
    }
    ctx.io.out(opts.json ? `${toJson(report)}\n` : render(session, report))
    if (!report.verified) {
      const which =
        onchain === undefined
          ? `it has no on-chain form against the chain's committee (${problem!.code})`
          : !onchain.verified
            ? `the verifier refused it: reason ${onchain.reason} (${REASONS[onchain.reason]?.name ?? 'unknown'})`
            : `the off-chain check refused it (${offchain.valid ? '' : offchain.code})`
      throw cliError(CliErrorCode.CERTIFICATE_REFUSED, `${basename(opts.path)} is not a valid certificate: ${which}`, {
        reason: onchain?.reason ?? null,
        offchain: offchain.valid ? null : offchain.code,
      })
    }
  } finally {
    await source.stop()
  }
}

/** An on-chain form as 0x hex (the .l1.hex suffix, or text that is 0x hex); else a certificate, JSON or binary. */
async function readInput(path: string): Promise<Input> {
  const bytes = await readFileChecked(path, 'certificate file', MAX_ONCHAIN_HEX_BYTES)
  const text = bytes.toString('latin1').trim()
  if (path.endsWith(ONCHAIN_SUFFIX) || /^0x[0-9a-fA-F]*$/.test(text)) {
    const hex = text.replace(/^0x/, '')
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) {
      throw cliError(CliErrorCode.READ_FAILED, `${path} is not 0x hex of an on-chain certificate form`, { path })
    }
    return { kind: 'onchain', bytes: new Uint8Array(Buffer.from(hex, 'hex')) }
  }
  if (bytes.length > 2 * MAX_CERTIFICATE_SIZE + 4096) {
    throw cliError(CliErrorCode.FILE_TOO_LARGE, `certificate file ${path} has ${bytes.length} bytes`, { path })
  }
  return { kind: 'certificate', certificate: parseCertificateBytes(bytes, path) }
}

/** dacnet's own check (`verifyCertificate`) against the committee the chain gives for the certificate's epoch. */
type OffchainVerdict =
  | { valid: false; code: string | null; message: string | null }
  | {
      valid: true
      blobId: string
      epoch: number
      signers: number
      members: number
      signedStake: bigint
      totalStake: bigint
      threshold: string
    }

function offchainVerdict(
  certificate: Certificate | undefined,
  committee: Committee | undefined,
  problem: DacnetError | undefined,
): OffchainVerdict {
  if (certificate === undefined || committee === undefined) {
    return { valid: false, code: problem?.code ?? null, message: problem?.message ?? null }
  }
  try {
    const verified = verifyCertificate(certificate, committee)
    return {
      valid: true,
      blobId: verified.blobId.toString(),
      epoch: committee.epoch,
      signers: verified.signers.length,
      members: committee.size,
      signedStake: verified.signedStake,
      totalStake: committee.totalStake,
      threshold: `${committee.threshold.num}/${committee.threshold.den}`,
    }
  } catch (err) {
    if (!(err instanceof DacnetError)) throw err
    return { valid: false, code: err.code, message: err.message }
  }
}

type Report = {
  onchain: {
    verified: boolean
    reason: number | null
    name: string | null
    meaning: string | null
    gas: bigint | null
    notAsked?: string
  }
  offchain: OffchainVerdict
}

function render(session: ChainSession, r: Report): string {
  const on = r.onchain
  const onLine =
    on.reason === null
      ? `on-chain   not asked: ${on.notAsked}`
      : `on-chain   ${on.verified ? 'valid' : 'REFUSED'}: reason ${on.reason} (${on.name}: ${on.meaning}); ${on.gas} gas`
  const off = r.offchain
  const offLine = off.valid
    ? `off-chain  valid: ${off.blobId} (epoch ${off.epoch}) signed by ${off.signers}/${off.members} members holding ${tokens(session, off.signedStake)} of ${tokens(session, off.totalStake)} (${percent(off.signedStake, off.totalStake)}; threshold ${off.threshold})`
    : `off-chain  REFUSED: ${off.code}: ${off.message}`
  return `${onLine}\n${offLine}\n`
}

function percent(part: bigint, total: bigint): string {
  return `${total === 0n ? '0.0' : (Number((part * 10_000n) / total) / 100).toFixed(1)}%`
}
