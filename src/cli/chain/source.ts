import { blsKeyVerifier } from '../../attest/pop.ts'
import { ChainCommitteeSource } from '../../chain/committee-source.ts'
import { type ChainTarget, chainTargetAt, openSession } from './connect.ts'

/**
 * The committees of the deployment chain.json names, read from its registry at the default confirmation depth,
 * every key and proof checked off-chain too. Not started: a one-shot reader syncs on first use.
 */
export function chainCommitteeSource(target: ChainTarget): ChainCommitteeSource {
  return new ChainCommitteeSource({ rpcUrl: target.rpcUrl, registry: target.file.registry, verifier: blsKeyVerifier })
}

/**
 * For client commands: checks that the RPC serves chain.json's deployment, then starts a source that has read
 * the chain once (an unreachable RPC fails here, CHAIN_UNAVAILABLE) and follows new blocks until stopped.
 */
export async function openChainCommittees(path: string, rpc: string | undefined): Promise<ChainCommitteeSource> {
  const target = await chainTargetAt(path, rpc)
  await openSession({ rpcUrl: target.rpcUrl, registry: target.file.registry, file: target.file })
  const source = chainCommitteeSource(target)
  await source.start()
  try {
    await source.currentEpoch()
  } catch (err) {
    await source.stop()
    throw err
  }
  return source
}
