import {
  type Address,
  BaseError,
  BlockNotFoundError,
  createPublicClient,
  type GetBlockReturnType,
  type Hex,
  type PublicClient,
  ResponseBodyTooLargeError,
} from 'viem'
import { dacnetRegistryAbi } from './artifacts/DacnetRegistry.ts'
import { ChainErrorCode, chainError, rpcFailure } from './errors.ts'
import { type JsonRpcHttp, jsonRpcHttp } from './json-rpc-http.ts'
import { decodeRegistryEvent } from './registry-events.ts'
import type { RegistryEvent } from './registry-replay.ts'

/** The registry's constants: fixed at deployment, read once. */
export interface ChainConstants {
  networkId: number
  genesisBlock: bigint
  epochBlocks: bigint
}

/** A block read by number: mined, so its hash and bloom are set. */
export type MinedBlock = GetBlockReturnType<undefined, false, 'latest'>

/** The epoch a block belongs to (PROTOCOL.md §4.2). */
export function epochOf(block: bigint, constants: ChainConstants): number {
  return Number((block - constants.genesisBlock) / constants.epochBlocks)
}

/**
 * What ChainCommitteeSource reads from the chain, over JSON-RPC with viem: the head, block headers, the registry's
 * constants (read once, again after a failure), its events in ranges of at most `logRangeBlocks` blocks, and an
 * epoch's committee record. No state beyond the constants: the source owns what it made of them.
 */
export class RegistryReader {
  readonly registry: Address
  readonly #rpcUrl: string
  readonly #logRangeBlocks: bigint
  readonly #rpc: JsonRpcHttp
  readonly #client: PublicClient
  #constants: Promise<ChainConstants> | undefined

  constructor(opts: { rpcUrl: string; registry: Address; rpcTimeoutMs: number; logRangeBlocks: number }) {
    this.registry = opts.registry
    this.#rpcUrl = opts.rpcUrl
    this.#logRangeBlocks = BigInt(opts.logRangeBlocks)
    this.#rpc = jsonRpcHttp(opts.rpcUrl, { timeoutMs: opts.rpcTimeoutMs })
    // No block-number cache: viem would answer getBlockNumber from a 4 s cache and hide new blocks.
    this.#client = createPublicClient({ transport: this.#rpc.transport, cacheTime: 0 })
  }

  /** Closes the kept connections to the RPC; a later read opens one again. */
  close(): void {
    this.#rpc.close()
  }

  head(): Promise<bigint> {
    return this.#client.getBlockNumber()
  }

  /** A mined block's header (hash, parent hash, logs bloom). */
  block(blockNumber: bigint): Promise<MinedBlock> {
    return this.#client.getBlock({ blockNumber })
  }

  /** The block, or undefined if the chain has none at that height (it reorganised to a shorter one). */
  async blockIfAny(blockNumber: bigint): Promise<MinedBlock | undefined> {
    try {
      return await this.block(blockNumber)
    } catch (err) {
      if (err instanceof BlockNotFoundError) return undefined
      throw err
    }
  }

  constants(): Promise<ChainConstants> {
    this.#constants ??= this.#readConstants()
    this.#constants.catch(() => {
      this.#constants = undefined
    })
    return this.#constants
  }

  async record(epoch: number, blockNumber?: bigint): Promise<{ recordIndex: number; summaryHash: Hex }> {
    const [recordIndex, hash] = await this.#client.readContract({
      address: this.registry,
      abi: dacnetRegistryAbi,
      functionName: 'committeeFor',
      args: [BigInt(epoch)],
      ...(blockNumber === undefined ? {} : { blockNumber }),
    })
    return { recordIndex: Number(recordIndex), summaryHash: hash }
  }

  /**
   * The registry's events of blocks `from..to`, in windows of at most `logRangeBlocks` blocks. A window whose answer
   * is too large (over the client's response limit, or a provider's own cap on results or range) is asked again
   * in halves, down to one block, and the window doubles again after WINDOW_GROWTH_FITS answers in a row fit: a
   * stretch of blocks busy
   * with registry logs, which any member can make, would otherwise fail the same window on every read, and no new or
   * restarted node could ever sync.
   */
  async events(from: bigint, to: bigint): Promise<{ block: bigint; event: RegistryEvent }[]> {
    const out: { block: bigint; event: RegistryEvent }[] = []
    let step = this.#logRangeBlocks
    /** Answers that fit in a row since the window last shrank. */
    let fits = 0
    for (let start = from; start <= to; ) {
      const end = start + step - 1n < to ? start + step - 1n : to
      const logs = await this.#getLogsOf(start, end).catch((err: unknown) => {
        if (step === 1n || !isAnswerTooLarge(err)) throw err
        return undefined // asked again in halves
      })
      if (logs === undefined) {
        const half = (end - start + 1n) / 2n
        step = half > 0n ? half : 1n
        fits = 0
        continue
      }
      start = end + 1n
      // Grown back once a few answers in a row fit, so one busy stretch does not leave the rest read a block at a
      // time, and a provider's fixed range cap is not asked past after every answer.
      if (++fits === WINDOW_GROWTH_FITS) {
        step = step * 2n < this.#logRangeBlocks ? step * 2n : this.#logRangeBlocks
        fits = 0
      }
      for (const log of logs) {
        if (log.removed || log.blockNumber === null) continue
        const event = decodeRegistryEvent(log.data, log.topics)
        if (event) out.push({ block: log.blockNumber, event })
      }
    }
    return out
  }

  /** One eth_getLogs of the registry over `from..to`. */
  #getLogsOf(from: bigint, to: bigint) {
    return this.#client.getLogs({ address: this.registry, fromBlock: from, toBlock: to })
  }

  async #readConstants(): Promise<ChainConstants> {
    const read = (functionName: 'networkId' | 'genesisBlock' | 'epochBlocks') =>
      this.#client.readContract({ address: this.registry, abi: dacnetRegistryAbi, functionName })
    try {
      const [networkId, genesisBlock, epochBlocks] = await Promise.all([
        read('networkId'),
        read('genesisBlock'),
        read('epochBlocks'),
      ])
      return { networkId: Number(networkId), genesisBlock: BigInt(genesisBlock), epochBlocks: BigInt(epochBlocks) }
    } catch (err) {
      throw chainError(
        ChainErrorCode.UNAVAILABLE,
        `cannot read the registry at ${this.registry} through ${this.#rpcUrl}: ${rpcFailure(err)}`,
        { registry: this.registry },
        { cause: err },
      )
    }
  }
}

/** Answers in a row that fit before a shrunk getLogs window doubles again. */
const WINDOW_GROWTH_FITS = 4

/**
 * Whether a getLogs failed for the size of what it asked: the answer over the client's response limit, or a
 * provider refusing too many results or too wide a range (their messages differ; these are the common ones).
 */
function isAnswerTooLarge(err: unknown): boolean {
  const tooLarge = (e: unknown) =>
    e instanceof ResponseBodyTooLargeError ||
    /more than \d+ (results|logs)|too many (results|logs)|range (is )?too (large|wide)|exceeds? (the )?max(imum)? block range|response size (exceeded|is larger)/i.test(
      (e as Error).message ?? '',
    )
  return err instanceof BaseError && err.walk(tooLarge) !== null
}
