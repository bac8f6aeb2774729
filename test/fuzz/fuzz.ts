/**
 * A seeded, replayable fuzzer for dacnet's decoders. Each target takes bytes from outside (a frame, a file, a
 * certificate) and must either accept them or refuse them with a typed DacnetError; anything else thrown is a
 * crash, and an input that takes longer than `hangMs` is a hang. Inputs are fast-check byte arrays: random bytes,
 * and mutations of the target's valid seeds (bit flips, byte overwrites, truncation, extension, splices), which
 * is where decoders break.
 *
 * Replay: a failure reports fast-check's seed and path; pass them back as `{ seed, path }` (or DACNET_FUZZ_SEED
 * and DACNET_FUZZ_PATH to the soak) to run exactly the failing input again.
 */
import fc from 'fast-check'
import { DacnetError } from '../../src/errors.ts'

export interface FuzzTarget {
  readonly name: string
  /** Valid inputs the mutations start from. */
  readonly seeds: readonly Uint8Array[]
  /** Largest random input, in bytes. Default: twice the largest seed, at least 256. */
  readonly maxBytes?: number
  /** Decodes (and checks) one input; returns normally when it is accepted, throws a DacnetError to refuse it. */
  run(input: Uint8Array): void | Promise<void>
}

export interface FuzzOptions {
  runs: number
  seed: number
  /** fast-check's path of a failing input, to replay it. */
  path?: string | undefined
  /** An input that takes longer is a hang. Default DEFAULT_HANG_MS. */
  hangMs?: number
}

export interface FuzzSummary {
  target: string
  seed: number
  inputs: number
  accepted: number
  refused: number
  /** Distinct refusal codes seen. */
  codes: string[]
  crashes: number
  hangs: number
  slowestMs: number
  /** What fast-check printed for the first failing input (with its seed and path), if any. */
  failure?: string
}

/** An input that takes longer than this is reported as a hang: every decoder here is linear in its input. */
export const DEFAULT_HANG_MS = 1_000

/** Bytes from a seed: random, or one of the seeds changed by a few edits. */
export function fuzzBytes(target: FuzzTarget): fc.Arbitrary<Uint8Array> {
  const largest = Math.max(0, ...target.seeds.map((s) => s.length))
  const maxBytes = target.maxBytes ?? Math.max(256, 2 * largest)
  const random = fc.uint8Array({ maxLength: maxBytes })
  if (target.seeds.length === 0) return random
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
    fc.record({
      kind: fc.constant('splice' as const),
      at: fc.nat(),
      drop: fc.nat({ max: 64 }),
      bytes: fc.uint8Array({ maxLength: 64 }),
    }),
  )
  const mutated = fc
    .tuple(fc.constantFrom(...target.seeds), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([seed, edits]) => edits.reduce(applyEdit, seed))
  return fc.oneof({ arbitrary: mutated, weight: 4 }, { arbitrary: random, weight: 1 })
}

type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'splice'; at: number; drop: number; bytes: Uint8Array }

function applyEdit(input: Uint8Array, edit: Edit): Uint8Array {
  const at = input.length === 0 ? 0 : ('at' in edit ? edit.at : 0) % input.length
  switch (edit.kind) {
    case 'flip': {
      const out = input.slice()
      if (out.length > 0) out[at]! ^= 1 << edit.bit
      return out
    }
    case 'set': {
      const out = input.slice()
      if (out.length > 0) out[at] = edit.value
      return out
    }
    case 'truncate':
      return input.slice(0, at)
    case 'append':
      return concatBytes(input, edit.bytes)
    case 'splice':
      return concatBytes(input.subarray(0, at), edit.bytes, input.subarray(Math.min(input.length, at + edit.drop)))
  }
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Runs `opts.runs` inputs through a target and counts what happened; stops at the first crash or hang. */
export async function fuzz(target: FuzzTarget, opts: FuzzOptions): Promise<FuzzSummary> {
  const hangMs = opts.hangMs ?? DEFAULT_HANG_MS
  const summary: FuzzSummary = {
    target: target.name,
    seed: opts.seed,
    inputs: 0,
    accepted: 0,
    refused: 0,
    codes: [],
    crashes: 0,
    hangs: 0,
    slowestMs: 0,
  }
  const codes = new Set<string>()
  const property = fc.asyncProperty(fuzzBytes(target), async (input) => {
    summary.inputs++
    const started = performance.now()
    try {
      await target.run(input)
      summary.accepted++
    } catch (err) {
      if (!(err instanceof DacnetError) || !/^[A-Z][A-Z0-9_]{2,63}$/.test(err.code)) {
        summary.crashes++
        throw err
      }
      summary.refused++
      codes.add(err.code)
    } finally {
      const ms = performance.now() - started
      summary.slowestMs = Math.max(summary.slowestMs, ms)
      if (ms > hangMs) {
        summary.hangs++
        // biome-ignore lint/correctness/noUnsafeFinally: a hang fails the input whatever it returned
        throw new Error(`${target.name}: one input took ${ms.toFixed(0)} ms (limit ${hangMs} ms)`)
      }
    }
  })
  const details = await fc.check(property, {
    numRuns: opts.runs,
    seed: opts.seed,
    ...(opts.path !== undefined ? { path: opts.path } : {}),
    // Shrinking re-runs the failing input many times; the first counterexample with its seed and path is enough.
    endOnFailure: true,
  })
  summary.codes = [...codes].sort()
  if (details.failed) {
    const input = Buffer.from(details.counterexample?.[0] ?? []).toString('hex')
    summary.failure = [
      `${target.name}: ${String(details.errorInstance ?? 'failed')}`,
      `  replay with seed ${details.seed} path "${details.counterexamplePath ?? ''}"`,
      `  input ${input.slice(0, 512)}`,
    ].join('\n')
  }
  return summary
}
