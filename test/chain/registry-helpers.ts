/**
 * Shared set-up of the DacnetRegistry tests (registry-*.test.ts): one anvil per test file, started by useChain(),
 * and the helpers the files share: events of a receipt, register() as a call for its revert reason, key encodings,
 * and the registry's live state checked against an independent computation.
 */
import { type Hex, keccak256, numberToBytes, parseEventLogs, type TransactionReceipt } from 'viem'
import { afterAll, beforeAll, expect } from 'vitest'
import { dacnetRegistryAbi } from '../../src/chain/artifacts/DacnetRegistry.ts'
import {
  type Chain,
  type Deployed,
  encodeSummary,
  hex,
  mined,
  type Registration,
  registerArgs,
  revertName,
  startChain,
  summaryOf,
} from './helpers.ts'

export let chain: Chain

/** Starts anvil before the file's tests and stops it after them (call once, at the top of a test file). */
export function useChain(): void {
  beforeAll(async () => {
    chain = await startChain()
  })

  afterAll(async () => {
    await chain?.anvil.stop()
  })
}

export function events(receipt: TransactionReceipt, eventName: string) {
  return parseEventLogs({ abi: dacnetRegistryAbi, logs: receipt.logs }).filter((e) => e.eventName === eventName)
}

/** register() as a call, for its revert reason (the operator is funded so that only the checks can fail). */
export async function registerRevert(d: Deployed, r: Registration, overrides: Partial<Record<string, unknown>> = {}) {
  const [publicKey, publicKeyY, proof, proofY, peerId, multiaddrs, stake] = registerArgs(r)
  const args = [
    (overrides['publicKey'] as Hex) ?? publicKey,
    (overrides['publicKeyY'] as Hex) ?? publicKeyY,
    (overrides['proof'] as Hex) ?? proof,
    (overrides['proofY'] as Hex) ?? proofY,
    (overrides['peerId'] as Hex) ?? peerId,
    (overrides['multiaddrs'] as string[]) ?? multiaddrs,
    (overrides['stake'] as bigint) ?? stake,
  ] as const
  return revertName(d.registry.simulate.register(args, { account: r.operator }))
}

export function bytes48(value: bigint): Uint8Array {
  return numberToBytes(value, { size: 48 })
}

export function withFlags(x: Uint8Array, flags: number): Uint8Array {
  const out = x.slice()
  out[0] = (out[0]! & 0x1f) | flags
  return out
}

/** The registry's live state against the spec computed from the members the test knows of. */
export async function expectCommittee(
  d: Deployed,
  members: readonly Registration[],
  q: readonly [bigint, bigint] = [2n, 3n],
  f: readonly [bigint, bigint] = [1n, 3n],
) {
  const summary = summaryOf(
    members.map((r) => ({ x: r.keys.x, y: r.keys.y, stake: r.stake, publicKey: r.keys.publicKey })),
    q,
    f,
  )
  expect(await d.registry.read.memberCount()).toBe(members.length)
  expect(await d.registry.read.membersRoot()).toBe(summary.root)
  expect(await d.registry.read.totalStake()).toBe(summary.totalStake)
  expect(await d.registry.read.aggregateKey()).toBe(hex(summary.aggregate))
  const encoded = encodeSummary(summary)
  expect(await d.registry.read.committeeSummary()).toBe(hex(encoded))
  const count = await d.registry.read.committeeRecordCount()
  const [liveHash] = await d.registry.read.committeeRecord([count])
  expect(liveHash).toBe(keccak256(encoded))
  for (const [i, r] of members.entries()) {
    const [operator, publicKey, publicKeyY, stake, peerId] = await d.registry.read.memberAt([BigInt(i)])
    expect(operator).toBe(r.operator.address)
    expect(publicKey).toBe(hex(r.keys.publicKey))
    expect(publicKeyY).toBe(hex(r.keys.y))
    expect(stake).toBe(r.stake)
    expect(peerId).toBe(hex(r.peerId))
  }
  return keccak256(encoded)
}

export async function write(promise: Promise<Hex>) {
  return mined(chain, await promise)
}
