/** Shared set-up of the wire-limit tests: a server and a client on loopback, a blob, and services served per test. */
import { encodeBlob } from '../../src/erasure/encode.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { type ProtocolOptions, type ProtocolServices, registerProtocols } from '../../src/p2p/service.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import { startNodes, stopAll } from './helpers.ts'

export const blob = encodeBlob(randomData(40_000, prng(31)), { networkId: 5, epoch: 1, k: 4, n: 12 })
export const all = withProofs(blob)

/** A client that ignored its deadline would hang: fail such a test in seconds, not at vitest's 60 s. */
export const HANG_TEST_TIMEOUT_MS = 10_000

export let server: DacnetLibp2p
export let client: DacnetLibp2p

/** Starts the server and the client and connects them (a test file's beforeAll). */
export async function startServerAndClient(): Promise<void> {
  ;[server, client] = (await startNodes(2)) as [DacnetLibp2p, DacnetLibp2p]
  await client.dial(server.getMultiaddrs())
}

/** Stops both (a test file's afterAll). */
export function stopServerAndClient(): Promise<void> {
  return stopAll([server, client])
}

/** Serves `services` on the server for the length of `body` (each test gets fresh rate limiters). */
export async function serving<T>(
  services: ProtocolServices,
  opts: ProtocolOptions,
  body: () => Promise<T>,
): Promise<T> {
  const unregister = await registerProtocols(server, services, opts)
  try {
    return await body()
  } finally {
    await unregister()
  }
}
