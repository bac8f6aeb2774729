import type { ChainSourceStatus } from '../chain/committee-source.ts'
import type { MetricSet } from './metric-set.ts'

/**
 * The chain source's sync state, read at scrape time. An alert on `dacnet_chain_sync_age_seconds` tells an
 * operator that the node serves committees it read a while ago (its RPC is down or slow).
 */
export function registerChainMetrics(set: MetricSet, chain: { status(): ChainSourceStatus }): void {
  set.gauge({
    name: 'dacnet_chain_epoch',
    help: 'The epoch in force at the last block the node read',
    collect() {
      const { epoch } = chain.status()
      if (epoch !== undefined) this.set(epoch)
    },
  })
  set.gauge({
    name: 'dacnet_chain_safe_block',
    help: 'The last block read (the head minus the confirmation depth)',
    collect() {
      const { safeBlock } = chain.status()
      if (safeBlock !== undefined) this.set(safeBlock)
    },
  })
  set.gauge({
    name: 'dacnet_chain_sync_age_seconds',
    help: 'Seconds since the node last read the chain successfully',
    collect() {
      const { lastSyncAt } = chain.status()
      if (lastSyncAt !== undefined) this.set((Date.now() - lastSyncAt) / 1000)
    },
  })
  set.gauge({
    name: 'dacnet_chain_synced',
    help: '1 while the node reads the chain, 0 while it serves committees read earlier (RPC failing)',
    collect() {
      this.set(chain.status().state === 'synced' ? 1 : 0)
    },
  })
  set.gauge({
    name: 'dacnet_chain_registry_rereads',
    help: 'Times the registry was read again in full because the events read did not match its records (a log the RPC left out)',
    collect() {
      this.set(chain.status().registryRereads)
    },
  })
  set.gauge({
    name: 'dacnet_chain_deep_reorgs',
    help: 'Reorgs found deeper than the confirmation depth since the node started',
    collect() {
      this.set(chain.status().deepReorgs)
    },
  })
}
