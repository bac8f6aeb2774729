import { blsKeyVerifier } from '../attest/pop.ts'
import type { Committee } from '../committee/committee.ts'
import { CommitteeErrorCode, committeeError } from '../committee/errors.ts'
import { parseCommitteeFile } from '../committee/file.ts'
import { type CommitteeSource, committeeOf, StaticCommitteeSource } from '../committee/source.ts'

/**
 * A committee source from a committee file's JSON (text or parsed), every key and proof of possession checked
 * as the Node client checks them.
 */
export function committeesFromFile(json: unknown): StaticCommitteeSource {
  return new StaticCommitteeSource(parseCommitteeFile(json, { verifier: blsKeyVerifier }))
}

/**
 * Committees fetched over HTTP one epoch at a time, as `dacnet web` serves them (from a committee file or from the
 * registry on the chain): GET `<base>` lists the epochs, GET `<base>/<epoch>` is a committee file holding that
 * epoch's committee. Each is checked like a committee file (keys, proofs of possession) and kept.
 */
export class HttpCommitteeSource implements CommitteeSource {
  readonly #base: string
  readonly #committees = new Map<number, Promise<Committee>>()

  constructor(base: string) {
    this.#base = base.replace(/\/$/, '')
  }

  getCommittee(epoch: number): Promise<Committee> {
    let committee = this.#committees.get(epoch)
    if (!committee) {
      committee = this.#fetch(epoch)
      this.#committees.set(epoch, committee)
      committee.catch(() => this.#committees.delete(epoch))
    }
    return committee
  }

  async epochs(): Promise<number[]> {
    const response = await fetch(this.#base)
    if (!response.ok) throw new Error(`the committees could not be listed: HTTP ${response.status}`)
    return ((await response.json()) as { epochs: number[] }).epochs
  }

  async #fetch(epoch: number): Promise<Committee> {
    const response = await fetch(`${this.#base}/${epoch}`)
    if (response.status === 404) {
      throw committeeError(CommitteeErrorCode.UNKNOWN_EPOCH, `no committee is registered for epoch ${epoch}`, {
        epoch,
      })
    }
    if (!response.ok) throw new Error(`the committee of epoch ${epoch} could not be fetched: HTTP ${response.status}`)
    return committeeOf(parseCommitteeFile(await response.text(), { verifier: blsKeyVerifier }), epoch)
  }
}
