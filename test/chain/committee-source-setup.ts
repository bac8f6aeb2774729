/**
 * The chain, registry, members and helpers that committee-source.test.ts and committee-source-reorg.test.ts share:
 * a real anvil, the real registry, four members funded to stake (each file registers the ones it needs).
 */
import type { LocalAccount } from 'viem'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { ChainCommitteeSource, type ChainCommitteeSourceOptions } from '../../src/chain/committee-source.ts'
import { type RegistryWriter, registerMember } from '../../src/chain/registry-client.ts'
import { memberSecretKey } from '../attest/helpers.ts'
import { peerIdFor } from '../committee/helpers.ts'
import { account, type Chain, type Deployed, deploy, fundAll, startChain, TOKEN } from './helpers.ts'

export const EPOCH_BLOCKS = 20n
export let chain: Chain
export let d: Deployed
const sources: ChainCommitteeSource[] = []

export interface TestMember {
  label: string
  operator: LocalAccount
  peerId: string
  stake: bigint
}

export function member(label: string, stake: bigint): TestMember {
  return { label, operator: account(`source-${label}`), peerId: peerIdFor(`source-${label}`), stake }
}

export function writer(m: TestMember): RegistryWriter {
  return {
    publicClient: chain.publicClient,
    walletClient: chain.walletClient,
    account: m.operator,
    registry: d.deployment.registry,
  }
}

export async function join(m: TestMember): Promise<void> {
  await registerMember(writer(m), {
    secretKey: memberSecretKey(`source-${m.label}`),
    peerId: m.peerId,
    multiaddrs: [`/dns4/${m.label}.example.org/tcp/4001`],
    stake: m.stake,
  })
}

/** A source of the registry `d` through `rpcUrl`, polling every 50 ms; stopped by stopSourceChain. */
export function source(
  rpcUrl = chain.anvil.rpcUrl,
  confirmations = 0,
  extra: Partial<ChainCommitteeSourceOptions> = {},
): ChainCommitteeSource {
  const s = new ChainCommitteeSource({
    rpcUrl,
    registry: d.deployment.registry,
    verifier: blsKeyVerifier,
    confirmations,
    pollIntervalMs: 50,
    rpcTimeoutMs: 2_000,
    ...extra,
  })
  sources.push(s)
  return s
}

/** Keeps a source created elsewhere to be stopped with the others. */
export function tracked(s: ChainCommitteeSource): ChainCommitteeSource {
  sources.push(s)
  return s
}

export const a = member('a', 30n * TOKEN)
export const b = member('b', 20n * TOKEN)
export const c = member('c', 10n * TOKEN)
export const dd = member('d', 25n * TOKEN)
export const byPeer = new Map([a, b, c, dd].map((m) => [m.peerId, m.label]))

export async function startSourceChain(): Promise<void> {
  chain = await startChain()
  d = await deploy(chain, { epochBlocks: EPOCH_BLOCKS, networkId: 9, retentionSeconds: 7200n })
  await fundAll(
    chain,
    d,
    [a, b, c, dd].map((m) => ({ operator: m.operator, stake: 100n * TOKEN })),
  )
}

export async function stopSourceChain(): Promise<void> {
  for (const s of sources) await s.stop()
  await chain?.anvil.stop()
}

export async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition')
    await new Promise((r) => setTimeout(r, 25))
  }
}
