import type { Committee } from '../committee/committee.ts'
import { CommitteeErrorCode, committeeError } from '../committee/errors.ts'
import type { CommitteeSource } from '../committee/source.ts'

/**
 * The current epoch is the newest one the committee source lists: dispersal uses it and members accept
 * new stores only for it, while shards and certificates of earlier epochs stay valid until retention ends.
 */
export async function currentEpoch(committees: CommitteeSource): Promise<number> {
  const epoch = (await committees.epochs()).at(-1)
  if (epoch === undefined) throw committeeError(CommitteeErrorCode.UNKNOWN_EPOCH, 'the committee source lists no epoch')
  return epoch
}

export async function currentCommittee(committees: CommitteeSource): Promise<Committee> {
  return committees.getCommittee(await currentEpoch(committees))
}
