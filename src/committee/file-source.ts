import { type FileHandle, open } from 'node:fs/promises'
import { DacnetError } from '../errors.ts'
import type { Committee } from './committee.ts'
import { CommitteeErrorCode, committeeError } from './errors.ts'
import { type CommitteeRegistry, parseCommitteeFile } from './file.ts'
import type { MemberKeyVerifier } from './member.ts'
import { type CommitteeSource, committeeOf, newestEpoch } from './source.ts'

/** A committee file larger than this is refused before it is parsed (about 20,000 members). */
export const DEFAULT_MAX_COMMITTEE_FILE_SIZE = 16 * 1024 * 1024

export interface FileCommitteeSourceOptions {
  verifier: MemberKeyVerifier
  /** Refuse the file if it is larger; DEFAULT_MAX_COMMITTEE_FILE_SIZE when absent. */
  maxFileSize?: number
  /** Refuse the file unless it names this network. */
  networkId?: number
}

/**
 * The committee file as a CommitteeSource: the only committee code that does I/O. The file is read and
 * validated once, on first use; `reload()` reads it again (for an operator who appended an epoch).
 */
export class FileCommitteeSource implements CommitteeSource {
  readonly path: string
  readonly #options: FileCommitteeSourceOptions
  #registry: Promise<CommitteeRegistry> | undefined

  constructor(path: string, options: FileCommitteeSourceOptions) {
    this.path = path
    this.#options = options
  }

  async getCommittee(epoch: number): Promise<Committee> {
    return committeeOf(await this.registry(), epoch)
  }

  async epochs(): Promise<number[]> {
    return (await this.registry()).committees.map((c) => c.epoch)
  }

  /** The newest epoch in the file: appending an epoch and reloading moves everyone to it. */
  async currentEpoch(): Promise<number> {
    return newestEpoch(await this.registry())
  }

  /** The validated file; a failed load is not cached, so the next call tries again. */
  registry(): Promise<CommitteeRegistry> {
    if (!this.#registry) {
      this.#registry = this.#load()
      this.#registry.catch(() => {
        this.#registry = undefined
      })
    }
    return this.#registry
  }

  /** Reads and validates the file again; on failure the previous committees stay in use. */
  async reload(): Promise<CommitteeRegistry> {
    const fresh = await this.#load()
    this.#registry = Promise.resolve(fresh)
    return fresh
  }

  async #load(): Promise<CommitteeRegistry> {
    const max = this.#options.maxFileSize ?? DEFAULT_MAX_COMMITTEE_FILE_SIZE
    let text: string
    let file: FileHandle | undefined
    try {
      // Size is checked on the open handle before reading, so an oversized file is never loaded.
      file = await open(this.path, 'r')
      const { size } = await file.stat()
      if (size > max) {
        throw committeeError(
          CommitteeErrorCode.READ_FAILED,
          `committee file ${this.path} is larger than ${max} bytes`,
          {
            path: this.path,
            size,
          },
        )
      }
      text = await file.readFile('utf8')
    } catch (err) {
      if (err instanceof DacnetError) throw err
      throw committeeError(
        CommitteeErrorCode.READ_FAILED,
        `cannot read committee file ${this.path}`,
        { path: this.path },
        { cause: err },
      )
    } finally {
      await file?.close()
    }
    const registry = parseCommitteeFile(text, { verifier: this.#options.verifier })
    const expected = this.#options.networkId
    if (expected !== undefined && registry.networkId !== expected) {
      throw committeeError(
        CommitteeErrorCode.INVALID_NETWORK_ID,
        `committee file ${this.path} is for network ${registry.networkId}, not ${expected}`,
        { path: this.path, networkId: registry.networkId },
      )
    }
    return registry
  }
}
