import {
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type Registry,
} from 'prom-client'
import { ApiErrorCode, apiError } from './errors.ts'

/**
 * Latency buckets in seconds: a sample or a local read answers in milliseconds, a store of a large share or a
 * dispersal takes seconds, and a member timeout is a minute.
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
]

/**
 * Metrics registered together in one registry and removed together, so that a component can be stopped and
 * started again with the same registry (prom-client refuses a name registered twice).
 */
export class MetricSet {
  readonly #registry: Registry
  readonly #names: string[] = []

  constructor(registry: Registry) {
    this.#registry = registry
  }

  counter<L extends string = string>(config: CounterConfiguration<L>): Counter<L> {
    return this.#add(config.name, () => new Counter<L>({ ...config, registers: [this.#registry] }))
  }

  gauge<L extends string = string>(config: GaugeConfiguration<L>): Gauge<L> {
    return this.#add(config.name, () => new Gauge<L>({ ...config, registers: [this.#registry] }))
  }

  histogram<L extends string = string>(config: HistogramConfiguration<L>): Histogram<L> {
    return this.#add(config.name, () => new Histogram<L>({ ...config, registers: [this.#registry] }))
  }

  /** Unregisters every metric of the set. */
  removeAll(): void {
    for (const name of this.#names.splice(0)) this.#registry.removeSingleMetric(name)
  }

  #add<M>(name: string, create: () => M): M {
    if (this.#registry.getSingleMetric(name) !== undefined) {
      this.removeAll()
      throw apiError(ApiErrorCode.INVALID_OPTIONS, `metric ${name} is already registered in this registry`, { name })
    }
    const metric = create()
    this.#names.push(name)
    return metric
  }
}

/** Error codes as label values: ours match this shape; anything else is folded into one value. */
export function codeLabel(code: string | undefined): string {
  if (code === undefined) return 'NONE'
  return /^[A-Z][A-Z0-9_]{2,63}$/.test(code) ? code : 'OTHER'
}

/** `/dacnet/sample/1.0.0` -> `sample`: short, stable label values for the node's protocols. */
export function protocolLabel(protocol: string): string {
  return /^\/dacnet\/([a-z]+)\/\d/.exec(protocol)?.[1] ?? 'other'
}
