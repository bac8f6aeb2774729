/**
 * Every decoder of outside input, fuzzed: a refusal is a typed DacnetError, never another exception, and no input
 * takes longer than the hang limit. `npm test` runs a seeded sample per target (the seed changes each day, and a
 * failure prints how to replay it); `npm run soak` runs 100,000 inputs per target.
 */
import { describe, expect, it } from 'vitest'
import { fuzz } from './fuzz.ts'
import { fuzzTargets } from './targets.ts'

/** Inputs per target in `npm test`. */
const RUNS = 2_000
const SEED = Number(process.env['DACNET_FUZZ_SEED'] ?? Math.floor(Date.now() / 86_400_000))

describe('decoders of outside input', () => {
  for (const target of fuzzTargets()) {
    it(`${target.name}: ${RUNS} inputs, refused only with typed errors, none hangs`, async () => {
      const summary = await fuzz(target, { runs: RUNS, seed: SEED, path: process.env['DACNET_FUZZ_PATH'] })
      expect(summary.failure, summary.failure).toBeUndefined()
      expect(summary.crashes + summary.hangs).toBe(0)
      expect(summary.inputs).toBe(RUNS)
      // The mutations reach past the first check: both outcomes occur, and refusals come with several codes.
      expect(summary.refused).toBeGreaterThan(0)
    })
  }
})

describe('the fuzzer itself', () => {
  it('reports an untyped exception as a crash and a slow input as a hang, with a replayable seed and path', async () => {
    const crashesOn2a = {
      name: 'crashes on a 0x2a byte',
      seeds: [new Uint8Array([1, 2, 3, 4])],
      run: (input: Uint8Array) => {
        if (input.includes(0x2a)) throw new TypeError('unexpected byte')
      },
    }
    const crashing = await fuzz(crashesOn2a, { runs: 5_000, seed: 1 })
    expect(crashing.crashes).toBe(1)
    expect(crashing.failure).toMatch(/unexpected byte[\s\S]*replay with seed 1 path "[\d:]+"/)
    // The seed and path run that one input again, first.
    const path = /path "([\d:]+)"/.exec(crashing.failure!)![1]
    const replayed = await fuzz(crashesOn2a, { runs: 5_000, seed: 1, path })
    expect(replayed.inputs).toBe(1)
    expect(replayed.crashes).toBe(1)

    const hanging = await fuzz(
      {
        name: 'slow',
        seeds: [new Uint8Array([1])],
        run: async () => new Promise((resolve) => setTimeout(resolve, 30)),
      },
      { runs: 3, seed: 1, hangMs: 10 },
    )
    expect(hanging.hangs).toBe(1)
  })
})
