import type { Counter, Histogram, Registry } from 'prom-client'
import type { CommitteeNodeEvents } from '../node/committee-node.ts'
import { CANCELLED } from '../p2p/wire.ts'
import type { ApiNode } from './context.ts'
import { DiskUsage } from './disk-usage.ts'
import { ApiErrorCode, apiError } from './errors.ts'
import { codeLabel, LATENCY_BUCKETS_SECONDS, MetricSet, protocolLabel } from './metric-set.ts'
import { DACNET_VERSION } from './version.ts'

/**
 * A committee node's metrics. Counters and histograms follow the node's events; gauges are read at scrape
 * time from `status()`, `storage.stats()` (memory only) and libp2p, so a scrape never waits on the node.
 */
export interface NodeMetrics {
  readonly inboundRequestSeconds: Histogram<'protocol'>
  readonly inboundRejections: Counter<'protocol' | 'code'>
  readonly inboundCancelled: Counter<'protocol'>
  readonly attestations: Counter<'kind'>
  readonly attestedShards: Counter
  readonly attestedBytes: Counter
  readonly certificatesKept: Counter
  readonly problems: Counter<'code'>
  /** The store directory's size on disk, cached (shared with GET /v1/status). */
  readonly diskUsage: DiskUsage
  /** Unsubscribes from the node's events and removes these metrics from the registry. */
  stop(): void
}

/** One set per registry: a second call for the same node returns it, for another node it is refused. */
const byRegistry = new WeakMap<Registry, { node: ApiNode; metrics: NodeMetrics }>()

/**
 * Registers the node's `dacnet_*` metrics in `registry` and subscribes to `node.events`. Calling it again
 * with the same registry and node returns the same metrics (so the CLI and the API server can both ask).
 */
export function createNodeMetrics(registry: Registry, node: ApiNode): NodeMetrics {
  const existing = byRegistry.get(registry)
  if (existing?.node === node) return existing.metrics
  if (existing) {
    throw apiError(ApiErrorCode.INVALID_OPTIONS, 'this registry already carries the metrics of another node')
  }
  const set = new MetricSet(registry)
  const metrics = registerNodeMetrics(set, node)
  const listeners = subscribe(node, metrics)
  const stop = () => {
    listeners()
    set.removeAll()
    if (byRegistry.get(registry)?.metrics === full) byRegistry.delete(registry)
  }
  const full: NodeMetrics = { ...metrics, stop }
  byRegistry.set(registry, { node, metrics: full })
  return full
}

/** True if `createNodeMetrics(registry, node)` would return metrics someone else created. */
export function hasNodeMetrics(registry: Registry, node: ApiNode): boolean {
  return byRegistry.get(registry)?.node === node
}

type EventMetrics = Omit<NodeMetrics, 'stop'>

function registerNodeMetrics(set: MetricSet, node: ApiNode): EventMetrics {
  const stats = () => node.storage.stats()
  const diskUsage = new DiskUsage(node.storage.dir)
  set.gauge({
    name: 'dacnet_build_info',
    help: 'Always 1; the label carries the dacnet version',
    labelNames: ['version'],
    collect() {
      this.set({ version: DACNET_VERSION }, 1)
    },
  })
  set.gauge({
    name: 'dacnet_node_running',
    help: '1 while the committee node serves its protocols',
    collect() {
      this.set(node.running ? 1 : 0)
    },
  })
  set.gauge({
    name: 'dacnet_peers',
    help: 'Peers with an open libp2p connection',
    collect() {
      this.set(node.libp2p.getPeers().length)
    },
  })
  set.gauge({
    name: 'dacnet_provider_records_pending',
    help: 'DHT provider records of stored blobs waiting for a quiet moment or being published',
    collect() {
      this.set(node.status().providerRecordsPending)
    },
  })
  set.gauge({
    name: 'dacnet_storage_bytes',
    help: 'Logical bytes held in the shard store (what the quota bounds)',
    collect() {
      this.set(stats().bytes)
    },
  })
  set.gauge({
    name: 'dacnet_storage_quota_bytes',
    help: 'The shard store quota',
    collect() {
      this.set(stats().quotaBytes)
    },
  })
  set.gauge({
    name: 'dacnet_storage_disk_bytes',
    help: "Bytes the store directory takes on disk (LevelDB's files, measured at most every 15 s)",
    async collect() {
      // A directory that cannot be read keeps the last value: a scrape must not fail for it.
      const bytes = await diskUsage.bytes().catch(() => undefined)
      if (bytes !== undefined) this.set(bytes)
    },
  })
  set.gauge({
    name: 'dacnet_storage_blobs',
    help: 'Blobs held',
    collect() {
      this.set(stats().blobs)
    },
  })
  set.gauge({
    name: 'dacnet_storage_shards',
    help: 'Shards held',
    collect() {
      this.set(stats().shards)
    },
  })
  set.gauge({
    name: 'dacnet_storage_quarantined_entries',
    help: 'Corrupt entries held in quarantine until their blob is pruned',
    collect() {
      this.set(stats().quarantined)
    },
  })
  set.counter({
    name: 'dacnet_storage_corrupt_entries_total',
    help: 'Corrupt entries detected by reads and checks since the store was created',
    collect() {
      this.reset()
      this.inc(stats().corruptDetected)
    },
  })
  set.gauge({
    name: 'dacnet_storage_pending_writes',
    help: 'Writes queued for the shard store or being committed to disk',
    collect() {
      this.set(stats().pendingWrites)
    },
  })
  set.gauge({
    name: 'dacnet_prune_running',
    help: '1 while a prune run is under way',
    collect() {
      this.set(stats().prune.running ? 1 : 0)
    },
  })
  set.gauge({
    name: 'dacnet_prune_failing',
    help: '1 if the last background prune run failed',
    collect() {
      this.set(stats().prune.lastError === undefined ? 0 : 1)
    },
  })
  set.gauge({
    name: 'dacnet_prune_last_run_timestamp_seconds',
    help: 'When the last prune run finished (Unix seconds; 0 before the first)',
    collect() {
      this.reset()
      const at = stats().prune.lastRunAt
      if (at !== undefined) this.set(at / 1000)
    },
  })
  set.counter({
    name: 'dacnet_prune_blobs_total',
    help: 'Expired blobs removed since the node started',
    collect() {
      this.reset()
      this.inc(stats().prune.blobsPruned)
    },
  })
  set.counter({
    name: 'dacnet_prune_entries_total',
    help: 'Store entries deleted by pruning since the node started',
    collect() {
      this.reset()
      this.inc(stats().prune.entriesDeleted)
    },
  })
  return {
    diskUsage,
    inboundRequestSeconds: set.histogram({
      name: 'dacnet_inbound_request_seconds',
      help: 'Time to serve an inbound store, sample or retrieve exchange, whatever its outcome',
      labelNames: ['protocol'],
      buckets: LATENCY_BUCKETS_SECONDS,
    }),
    inboundRejections: set.counter({
      name: 'dacnet_inbound_rejections_total',
      help: 'Inbound exchanges that ended with an error code (refused, timed out, cut off)',
      labelNames: ['protocol', 'code'],
    }),
    inboundCancelled: set.counter({
      name: 'dacnet_inbound_cancelled_total',
      help: 'Samples and retrievals whose client stopped reading mid-answer, having what it needed (not errors)',
      labelNames: ['protocol'],
    }),
    attestations: set.counter({
      name: 'dacnet_attestations_total',
      help: 'Stores answered with an attestation; kind=fresh signed a new blob, kind=repeat re-sent one',
      labelNames: ['kind'],
    }),
    attestedShards: set.counter({
      name: 'dacnet_attested_shards_total',
      help: 'Shards stored with a fresh attestation',
    }),
    attestedBytes: set.counter({
      name: 'dacnet_attested_bytes_total',
      help: 'Shard and proof bytes stored with a fresh attestation',
    }),
    certificatesKept: set.counter({
      name: 'dacnet_certificates_kept_total',
      help: 'Verified certificates kept next to the shards of a held blob',
    }),
    problems: set.counter({
      name: 'dacnet_problems_total',
      help: 'Failures that did not stop the node (bootstrap dials, certificates it could not keep), by code',
      labelNames: ['code'],
    }),
  }
}

/** Subscribes the metrics to the node's events; returns the unsubscribe function. */
function subscribe(node: ApiNode, m: EventMetrics): () => void {
  const served = ({ protocol, ms, outcome }: CommitteeNodeEvents['served'][0]) => {
    const label = protocolLabel(protocol)
    m.inboundRequestSeconds.observe({ protocol: label }, ms / 1000)
    if (outcome === CANCELLED) m.inboundCancelled.inc({ protocol: label })
    else if (outcome !== 'ok') m.inboundRejections.inc({ protocol: label, code: codeLabel(outcome) })
  }
  const attested = ({ shards, bytes, fresh }: CommitteeNodeEvents['attested'][0]) => {
    m.attestations.inc({ kind: fresh ? 'fresh' : 'repeat' })
    if (fresh) {
      m.attestedShards.inc(shards)
      m.attestedBytes.inc(bytes)
    }
  }
  const certificate = () => m.certificatesKept.inc()
  const problem = ({ code }: CommitteeNodeEvents['problem'][0]) => m.problems.inc({ code: codeLabel(code) })
  node.events.on('served', served)
  node.events.on('attested', attested)
  node.events.on('certificate', certificate)
  node.events.on('problem', problem)
  return () => {
    node.events.off('served', served)
    node.events.off('attested', attested)
    node.events.off('certificate', certificate)
    node.events.off('problem', problem)
  }
}
