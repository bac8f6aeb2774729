import { blsKeyVerifier } from '../../attest/pop.ts'
import type { CommitteeRegistry } from '../../committee/file.ts'
import { FileCommitteeSource } from '../../committee/file-source.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists } from '../files.ts'

/** Reads and validates the committee file (keys, proofs, thresholds) before anything touches the network. */
export async function openCommittee(
  path: string,
): Promise<{ source: FileCommitteeSource; registry: CommitteeRegistry }> {
  if (!(await pathExists(path))) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `committee file ${path} does not exist`, {
      hint: 'pass --committee FILE or set DACNET_COMMITTEE (a devnet writes DIR/committee.json with --out DIR)',
    })
  }
  const source = new FileCommitteeSource(path, { verifier: blsKeyVerifier })
  return { source, registry: await source.registry() }
}
