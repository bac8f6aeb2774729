import type { ShardWithProof } from '../erasure/shard.ts'
import type { StoreIntake } from '../p2p/store.ts'
import type { BlobIntake } from '../storage/index.ts'
import { NodeErrorCode, nodeError } from './errors.ts'

/** What the member does once every shard of an admitted store is in the shard store's intake: commit and sign. */
export type IntakeFinish = (intake: BlobIntake, taken: { shards: number; bytes: number }) => Promise<Uint8Array>

/**
 * A member's side of one admitted store: each run of shards read is checked against the member's assignment and
 * handed to the shard store's intake (which verifies the proofs and copies the shards into its batch at once);
 * `finish` runs once all of them are in. A refusal leaves the intake open: the caller aborts it (StoreIntake).
 */
export class MemberIntake implements StoreIntake {
  readonly #intake: BlobIntake
  /** The member's assigned indices, marked: 1 where assigned and not taken yet, 2 once taken. */
  readonly #assigned: Uint8Array
  readonly #expected: number
  readonly #memberIndex: number
  readonly #finish: IntakeFinish
  /** Called once when the store ends, however it ends (its reservation is given back). */
  #onEnd: (() => void) | undefined
  #bytes = 0

  constructor(
    intake: BlobIntake,
    assigned: readonly number[],
    memberIndex: number,
    finish: IntakeFinish,
    onEnd?: () => void,
  ) {
    this.#intake = intake
    this.#onEnd = onEnd
    this.#assigned = new Uint8Array(intake.header.n)
    for (let t = 0; t < assigned.length; t++) this.#assigned[assigned[t]!] = 1
    this.#expected = assigned.length
    this.#memberIndex = memberIndex
    this.#finish = finish
  }

  add(shards: ShardWithProof[]): void {
    let bytes = 0
    for (let t = 0; t < shards.length; t++) {
      const { index, data, proof } = shards[t]!
      if (this.#assigned[index] !== 1) {
        const what = this.#assigned[index] === 2 ? 'came twice' : `is not member ${this.#memberIndex}'s assignment`
        throw nodeError(NodeErrorCode.WRONG_SHARDS, `shard ${index} ${what}`, { index })
      }
      this.#assigned[index] = 2
      bytes += data.length + proof.length
    }
    this.#intake.add(shards)
    this.#bytes += bytes
  }

  finish(): Promise<Uint8Array> {
    // The handler reads exactly the admitted count, and `add` refused a shard given twice.
    if (this.#intake.count !== this.#expected) {
      return Promise.reject(
        nodeError(NodeErrorCode.WRONG_SHARDS, `shards sent are not member ${this.#memberIndex}'s assignment`, {
          expected: this.#expected,
        }),
      )
    }
    return this.#finish(this.#intake, { shards: this.#intake.count, bytes: this.#bytes }).finally(() => this.#end())
  }

  abort(): void {
    this.#intake.abort()
    this.#end()
  }

  #end(): void {
    const onEnd = this.#onEnd
    this.#onEnd = undefined
    onEnd?.()
  }
}
