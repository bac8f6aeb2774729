import { readFile } from 'node:fs/promises'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNodeMetrics, startApiServer } from '../../src/api/index.ts'
import type { ApiServer } from '../../src/api/options.ts'
import { isDacnetError } from '../../src/errors.ts'
import { Disperser } from '../../src/node/disperser.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import { sendStore } from '../../src/p2p/store.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import { startClient } from '../node/harness.ts'
import { type ApiCommittee, call, postBlob, startApiCommittee, TOKEN } from './helpers.ts'

let committee: ApiCommittee
let api: ApiServer
let sequencer: DacnetLibp2p
let outsider: DacnetLibp2p
let disperser: Disperser

beforeAll(async () => {
  committee = await startApiCommittee([25n, 25n, 25n, 25n])
  // A separate sequencer, so that the API node (member 0) receives a store over the network.
  sequencer = await startClient('server')
  outsider = await startClient()
  committee.otherSequencers.push(sequencer.peerId.toString())
  committee.publish()
  disperser = new Disperser({ libp2p: sequencer, committees: committee.committees, pool: committee.pool })
  api = await startApiServer({
    node: committee.apiNode,
    disperser: committee.disperser,
    token: TOKEN,
    port: 0,
    registry: committee.registry,
  })
})

afterAll(async () => {
  await api?.close()
  await disperser?.close()
  for (const client of [sequencer, outsider]) await client?.stop()
  await committee?.close()
})

/** `name{labels} value` lines of the exposition, keyed by everything before the value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

/** Every series name the exposition can carry: families from `# TYPE`, with a histogram's suffixes. */
function seriesNames(text: string): Set<string> {
  const names = new Set<string>()
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string]
    names.add(name)
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
  }
  return names
}

async function scrape(): Promise<string> {
  const res = await fetch(`${api.url}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain')
  return res.text()
}

describe('GET /metrics', () => {
  it('counts a store, a sample, a rejection, a certificate and a dispersal through the API', async () => {
    const { blob } = await disperser.disperse(randomData(120_000, prng(31)))
    const held = await committee.apiNode.store.listShardIndices(blob.blobId)
    expect(held.length).toBeGreaterThan(0)
    await requestSamples(outsider, committee.apiNode.libp2p.getMultiaddrs(), blob.blobId, held.slice(0, 1), {
      shardSize: blob.header.shardSize,
    })
    const refused = await sendStore(outsider, committee.apiNode.libp2p.getMultiaddrs(), blob.headerBytes, []).catch(
      (e) => e,
    )
    expect(isDacnetError(refused, 'NODE_UNREGISTERED_SEQUENCER')).toBe(true)
    expect((await postBlob(api.url, randomData(5_000, prng(32)))).status).toBe(200)

    // The API node is a member too: it stored its own share of the blob it dispersed and kept that certificate.
    let m = samples(await scrape())
    for (let attempt = 0; attempt < 50 && !(m.get('dacnet_certificates_kept_total')! >= 2); attempt++) {
      await new Promise((r) => setTimeout(r, 100))
      m = samples(await scrape())
    }
    const blobs = await committee.apiNode.store.listBlobs()
    let shardsHeld = 0
    for (const id of blobs) shardsHeld += (await committee.apiNode.store.listShardIndices(id)).length
    expect(blobs.length).toBe(2)
    expect(m.get('dacnet_certificates_kept_total')).toBe(2)
    expect(m.get('dacnet_node_running')).toBe(1)
    expect(m.get('dacnet_peers')).toBeGreaterThanOrEqual(3)
    expect(m.get('dacnet_storage_blobs')).toBe(2)
    expect(m.get('dacnet_storage_shards')).toBe(shardsHeld)
    expect(m.get('dacnet_storage_bytes')).toBeGreaterThan(0)
    expect(m.get('dacnet_storage_disk_bytes')).toBeGreaterThan(0)
    expect(m.get('dacnet_attestations_total{kind="fresh"}')).toBe(2)
    expect(m.get('dacnet_attested_shards_total')).toBe(shardsHeld)
    expect(m.get('dacnet_inbound_request_seconds_count{protocol="store"}')).toBe(2)
    expect(m.get('dacnet_inbound_request_seconds_count{protocol="sample"}')).toBe(1)
    expect(m.get('dacnet_inbound_request_seconds_bucket{le="+Inf",protocol="sample"}')).toBe(1)
    expect(m.get('dacnet_inbound_rejections_total{protocol="store",code="NODE_UNREGISTERED_SEQUENCER"}')).toBe(1)
    expect(m.get('dacnet_api_dispersals_total{outcome="ok"}')).toBe(1)
    expect(m.get('dacnet_api_dispersal_seconds_count')).toBe(1)
    expect(m.get('dacnet_api_dispersed_bytes_total')).toBe(5_000)
    expect(m.get('dacnet_api_requests_total{method="POST",route="/v1/blobs",status="200"}')).toBe(1)
    expect(m.get('dacnet_prune_blobs_total')).toBe(0)
    // Provider records of what the node announces go out once stores pause (2 s): none is left waiting.
    for (let attempt = 0; attempt < 100 && m.get('dacnet_provider_records_pending') !== 0; attempt++) {
      await new Promise((r) => setTimeout(r, 100))
      m = samples(await scrape())
    }
    expect(m.get('dacnet_provider_records_pending')).toBe(0)
    expect([...m.keys()].some((k) => k.startsWith('dacnet_build_info{version='))).toBe(true)
  })

  it('carries the libp2p families of the libp2p that shares the registry, and the process metrics', async () => {
    const names = seriesNames(await scrape())
    for (const name of [
      'libp2p_connection_manager_connections',
      'libp2p_protocol_streams_total',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(names.has(name), name).toBe(true)
    }
  })

  it('has the dashboard reference only series that /metrics exposes', async () => {
    const dashboard = JSON.parse(await readFile(new URL('../../dashboards/dacnet-node.json', import.meta.url), 'utf8'))
    const names = seriesNames(await scrape())
    const exprs: string[] = []
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk)
      else if (value && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          if ((key === 'expr' || key === 'definition') && typeof inner === 'string') exprs.push(inner)
          else walk(inner)
        }
      }
    }
    walk(dashboard)
    expect(exprs.length).toBeGreaterThan(20)
    const referenced = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b(?:dacnet|libp2p|process|nodejs)_[a-z0-9_]+/g)].map((x) => x[0])),
    )
    const missing = [...referenced].filter((name) => !names.has(name))
    expect(missing).toEqual([])
    // Grafana 10+: a Prometheus data-source variable that every panel uses.
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36)
    const variables = dashboard.templating.list
    expect(variables.find((v: { type: string }) => v.type === 'datasource')).toMatchObject({ query: 'prometheus' })
    for (const panel of dashboard.panels.filter((p: { type: string }) => p.type !== 'row')) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' })
    }
  })
})

describe('the metrics lifecycle', () => {
  it('returns the same metrics for the same registry and node, and refuses another node', () => {
    const registry = new Registry()
    const metrics = createNodeMetrics(registry, committee.apiNode)
    expect(createNodeMetrics(registry, committee.apiNode)).toBe(metrics)
    const other = (() => {
      try {
        createNodeMetrics(registry, committee.members[1]!.node)
      } catch (err) {
        return err
      }
    })()
    expect(isDacnetError(other, 'API_INVALID_OPTIONS')).toBe(true)
    metrics.stop()
    expect(registry.getSingleMetric('dacnet_storage_bytes')).toBeUndefined()
  })

  it('unregisters its metrics on close, so a new server can use the same registry', async () => {
    const registry = new Registry()
    const first = await startApiServer({ node: committee.members[2]!.node, port: 0, registry })
    expect(registry.getSingleMetric('dacnet_storage_bytes')).toBeDefined()
    await first.close()
    expect(registry.getSingleMetric('dacnet_storage_bytes')).toBeUndefined()
    expect(registry.getSingleMetric('dacnet_api_requests_total')).toBeUndefined()
    const second = await startApiServer({ node: committee.members[2]!.node, port: 0, registry })
    expect((await call(`${second.url}/metrics`)).body).toContain('dacnet_storage_bytes')
    await second.close()
  })

  it('leaves metrics it did not create to their creator', async () => {
    const registry = new Registry()
    const metrics = createNodeMetrics(registry, committee.members[3]!.node)
    const server = await startApiServer({ node: committee.members[3]!.node, port: 0, registry })
    await server.close()
    expect(registry.getSingleMetric('dacnet_storage_bytes')).toBeDefined()
    metrics.stop()
  })
})
