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

/** How long the page's server may take to answer one request of the browser's, body included (ms). */
export const SERVER_FETCH_TIMEOUT_MS = 15_000

/**
 * GET `url` from the page's server within `timeoutMs` (default SERVER_FETCH_TIMEOUT_MS), body included (the signal covers reading it):
 * a server that never answers cannot hold a check, and every check queued behind it, forever. A failure to get an
 * answer at all is COMMITTEE_READ_FAILED, saying `what` could not be fetched and why.
 */
export async function fetchFromServer(
  url: string,
  what: string,
  timeoutMs: number = SERVER_FETCH_TIMEOUT_MS,
): Promise<{ response: Response; text: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    return { response, text: await response.text() }
  } catch (err) {
    const timedOut = (err as { name?: string })?.name === 'TimeoutError'
    throw committeeError(
      CommitteeErrorCode.READ_FAILED,
      timedOut
        ? `${what} could not be fetched: the server did not answer within ${timeoutMs / 1000} s`
        : `${what} could not be fetched: ${(err as Error)?.message ?? String(err)}`,
    )
  }
}

/**
 * Committees fetched over HTTP one epoch at a time, as `dacnet web` serves them (from a committee file or from the
 * registry on the chain): GET `<base>` lists the epochs, GET `<base>/<epoch>` is a committee file holding that
 * epoch's committee. Each is checked like a committee file (keys, proofs of possession) and kept.
 */
export class HttpCommitteeSource implements CommitteeSource {
  readonly #base: string
  readonly #timeoutMs: number
  readonly #committees = new Map<number, Promise<Committee>>()

  /** `timeoutMs`: how long each request may take, body included (default SERVER_FETCH_TIMEOUT_MS). */
  constructor(base: string, opts: { timeoutMs?: number } = {}) {
    this.#base = base.replace(/\/$/, '')
    this.#timeoutMs = opts.timeoutMs ?? SERVER_FETCH_TIMEOUT_MS
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
    const { response, text } = await fetchFromServer(this.#base, 'the committees', this.#timeoutMs)
    const failed = (why: string) =>
      committeeError(CommitteeErrorCode.READ_FAILED, `the committees could not be listed: ${why}`)
    if (!response.ok) throw failed(`HTTP ${response.status}`)
    let epochs: unknown
    try {
      epochs = (JSON.parse(text) as { epochs?: unknown })?.epochs
    } catch {
      throw failed('the answer is not JSON')
    }
    if (!Array.isArray(epochs) || !epochs.every((e) => Number.isSafeInteger(e) && e >= 0)) {
      throw failed('the answer holds no list of epochs')
    }
    return epochs as number[]
  }

  async #fetch(epoch: number): Promise<Committee> {
    const { response, text } = await fetchFromServer(
      `${this.#base}/${epoch}`,
      `the committee of epoch ${epoch}`,
      this.#timeoutMs,
    )
    if (response.status === 404) {
      throw committeeError(CommitteeErrorCode.UNKNOWN_EPOCH, `no committee is registered for epoch ${epoch}`, {
        epoch,
      })
    }
    if (!response.ok) {
      throw committeeError(
        CommitteeErrorCode.READ_FAILED,
        `the committee of epoch ${epoch} could not be fetched: HTTP ${response.status}`,
      )
    }
    return committeeOf(parseCommitteeFile(text, { verifier: blsKeyVerifier }), epoch)
  }
}
