import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { Committee } from '../../committee/committee.ts'
import { addCommitteeOption, type CommitteeOptions } from '../client/options.ts'
import type { CommandContext } from '../context.ts'
import { toJson } from '../files.ts'
import { formatStake } from '../format.ts'

export function registerVerify(program: Command, ctx: CommandContext): void {
  const command = program
    .command('verify')
    .summary('check a certificate against the committee of its epoch')
    .description(
      "check a certificate against the committee of its epoch (layout, network, epoch, encoding, signers' stake, threshold, aggregate BLS signature); offline with a committee file, or with the committees read from the chain (--chain)",
    )
    .argument('<cert>', 'certificate file: JSON (as `dacnet disperse` writes it) or binary')
    .option('--json', 'print the result as JSON')
  addCommitteeOption(command)
  command.action(async (cert: string, opts: CommitteeOptions & { json?: boolean }) => {
    const { readCertificateFile } = await import('../client/certificate-input.ts')
    const { committeeChoice, openCommitteeSource } = await import('../client/source.ts')
    const { verifyCertificate } = await import('../../attest/verify-certificate.ts')
    const choice = committeeChoice(ctx.io, opts)
    const certificate = await readCertificateFile(resolve(ctx.io.cwd, cert))
    const committees = await openCommitteeSource(choice)
    let committee: Committee
    try {
      committee = await committees.source.getCommittee(certificate.epoch)
    } finally {
      await committees.stop()
    }
    const verified = verifyCertificate(certificate, committee)
    const result = {
      valid: true,
      blobId: verified.blobId.toString(),
      networkId: committee.networkId,
      epoch: committee.epoch,
      dataSize: certificate.header.dataSize,
      signers: verified.signers,
      members: committee.size,
      signedStake: verified.signedStake.toString(),
      totalStake: committee.totalStake.toString(),
      threshold: `${committee.threshold.num}/${committee.threshold.den}`,
    }
    if (opts.json) ctx.io.out(`${toJson(result)}\n`)
    else {
      ctx.io.out(
        `valid: ${result.blobId} (network ${result.networkId}, epoch ${result.epoch}, ${result.dataSize} bytes) signed by ${verified.signers.length}/${committee.size} members holding ${formatStake(verified.signedStake, committee.totalStake)} of the stake (threshold ${result.threshold})\n`,
      )
    }
  })
}
