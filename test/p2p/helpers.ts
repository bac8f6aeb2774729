import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream, StreamHandler } from '@libp2p/interface'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../src/p2p/node.ts'
import type { StoreIntake } from '../../src/p2p/store.ts'

/** Started libp2p nodes on loopback; stop them with stopAll. */
export async function startNodes(count: number, dhtMode: 'server' | 'client' = 'server'): Promise<DacnetLibp2p[]> {
  const nodes: DacnetLibp2p[] = []
  for (let i = 0; i < count; i++) {
    const node = await createDacnetLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      dhtMode,
      localNetwork: true,
    })
    await node.start()
    nodes.push(node)
  }
  return nodes
}

export async function stopAll(nodes: DacnetLibp2p[]): Promise<void> {
  for (const node of nodes) await node.stop()
}

/** The error a promise rejects with, or undefined when it resolves. */
export async function failureOf(
  promise: Promise<unknown>,
): Promise<(Error & { code?: string; meta?: Record<string, unknown> }) | undefined> {
  try {
    await promise
  } catch (err) {
    return err as Error & { code?: string }
  }
  return undefined
}

/** The code of the error a promise rejects with ('ok' when it resolves). */
export async function outcomeOf(promise: Promise<unknown>): Promise<string> {
  const err = await failureOf(promise)
  return err === undefined ? 'ok' : (err.code ?? `uncoded: ${err.message}`)
}

/** A promise the test opens when it chooses. */
export interface Gate {
  readonly promise: Promise<void>
  open(): void
}

export function gate(): Gate {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/** Polls `condition` until it holds; fails after `timeoutMs` (a generous bound, not a timing assumption). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * Serves `protocol` on `node` with a raw handler for the length of `body`, then unregisters it and aborts the
 * streams the handler saw (so a handler that never answers leaves nothing open behind).
 */
export async function withHandler<T>(
  node: DacnetLibp2p,
  protocol: string,
  handler: StreamHandler,
  body: (streams: Stream[]) => Promise<T>,
): Promise<T> {
  const streams: Stream[] = []
  await node.handle(protocol, async (stream, connection) => {
    streams.push(stream)
    await handler(stream, connection)
  })
  try {
    return await body(streams)
  } finally {
    await node.unhandle(protocol)
    for (const stream of streams) stream.abort(new Error('test over'))
  }
}

/** Resolves when the stream closes or is reset, from either side. */
export function untilClosed(stream: Stream): Promise<void> {
  if (stream.status === 'closed' || stream.status === 'aborted' || stream.status === 'reset') return Promise.resolve()
  return new Promise((resolve) => stream.addEventListener('close', () => resolve(), { once: true }))
}

/** A handler that accepts the stream, reads nothing and never answers; it returns once the stream is gone. */
export const silentHandler: StreamHandler = (stream) => untilClosed(stream)

/**
 * A store intake without a shard store, for tests of the wire: keeps every shard it is handed (copied: the handler's
 * buffers are its own again after `add`) and answers `finish` with what `sign` returns for them. `aborted` says
 * whether the handler dropped it.
 */
export function collectingIntake(
  sign: (shards: ShardWithProof[]) => Uint8Array | Promise<Uint8Array> = () => new Uint8Array(96),
): StoreIntake & { readonly shards: ShardWithProof[]; readonly aborted: boolean } {
  const shards: ShardWithProof[] = []
  let aborted = false
  return {
    shards,
    get aborted() {
      return aborted
    },
    add(run) {
      for (const { index, data, proof } of run) shards.push({ index, data: data.slice(), proof: proof.slice() })
    },
    finish: async () => sign(shards),
    abort() {
      aborted = true
    },
  }
}
