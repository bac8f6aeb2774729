/**
 * Storage crash-consistency soak: 1,000 SIGKILLs of a child that stores and attests blobs, with the store
 * reopened and fully verified after each (the same harness as test/storage/crash.test.ts, five times longer).
 *
 *   npm exec -- node scripts/soak-storage-crash.ts [ITERATIONS] [LANES]
 */
import { runCrashIterations } from '../test/storage/fixtures/crash-harness.ts'

const DEFAULT_ITERATIONS = 1000
const DEFAULT_LANES = 2
const PROGRESS_EVERY = 50

const iterations = Number(process.argv[2] ?? DEFAULT_ITERATIONS)
const lanes = Number(process.argv[3] ?? DEFAULT_LANES)
if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(lanes) || lanes < 1) {
  process.stderr.write('usage: soak-storage-crash.ts [ITERATIONS] [LANES]\n')
  process.exit(2)
}

const started = performance.now()
try {
  const summary = await runCrashIterations({
    iterations,
    lanes,
    onIteration: (done, s) => {
      if (done % PROGRESS_EVERY === 0) {
        const seconds = ((performance.now() - started) / 1000).toFixed(0)
        process.stdout.write(`${done}/${iterations} kills, ${s.announced} blobs announced, ${seconds} s\n`)
      }
    },
  })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  process.stdout.write(`${JSON.stringify({ ...summary, seconds: Number(seconds) })}\n`)
} catch (err) {
  process.stderr.write(`soak failed: ${(err as Error).stack}\n`)
  process.exit(1)
}
