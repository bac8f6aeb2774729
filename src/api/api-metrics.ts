import type { Counter, Histogram } from 'prom-client'
import { LATENCY_BUCKETS_SECONDS, type MetricSet } from './metric-set.ts'

/** The HTTP API's own metrics: what operators and sequencers ask of it, and how dispersals through it end. */
export interface ApiMetrics {
  readonly requests: Counter<'method' | 'route' | 'status'>
  readonly requestSeconds: Histogram<'route'>
  readonly dispersals: Counter<'outcome'>
  readonly dispersalSeconds: Histogram
  readonly dispersedBytes: Counter
}

export function registerApiMetrics(set: MetricSet): ApiMetrics {
  return {
    requests: set.counter({
      name: 'dacnet_api_requests_total',
      help: 'HTTP API requests by route pattern and status (route="unmatched" for unknown paths)',
      labelNames: ['method', 'route', 'status'],
    }),
    requestSeconds: set.histogram({
      name: 'dacnet_api_request_seconds',
      help: 'Time from an HTTP API request to its response, by route pattern',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS_SECONDS,
    }),
    dispersals: set.counter({
      name: 'dacnet_api_dispersals_total',
      help: 'Dispersals through POST /v1/blobs by outcome: ok or the error code',
      labelNames: ['outcome'],
    }),
    dispersalSeconds: set.histogram({
      name: 'dacnet_api_dispersal_seconds',
      help: 'Time from a received blob to its certificate, for dispersals that succeeded',
      buckets: LATENCY_BUCKETS_SECONDS,
    }),
    dispersedBytes: set.counter({
      name: 'dacnet_api_dispersed_bytes_total',
      help: 'Blob bytes certified through POST /v1/blobs',
    }),
  }
}
