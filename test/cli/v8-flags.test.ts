import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).href

/**
 * Full collections a Node.js process runs while it allocates 4 GiB of 64 KiB buffers holding on to 4 MiB of them
 * (a node's frames and shards: memory outside V8's heap, whose own heap stays small), once it has loaded dacnet's
 * CLI. With `viaMain`, the process first runs dacnet's main (`dacnet --version`), as every dacnet process does, and
 * allocates once main is done.
 */
async function fullCollections(viaMain: boolean): Promise<number> {
  const script = `
    import { PerformanceObserver, constants } from 'node:perf_hooks'
    const churn = async () => {
      let major = 0
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++
      }).observe({ entryTypes: ['gc'] })
      const held = []
      for (let done = 0; done < 2 ** 32; done += 2 ** 16) {
        const buffer = Buffer.allocUnsafe(2 ** 16)
        buffer[0] = 1
        held.push(buffer)
        if (held.length > 64) held.shift()
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
      return major
    }
    if (${viaMain}) {
      const exit = process.exit.bind(process)
      process.exit = (code) => {
        churn().then((major) => { process.stderr.write(String(major)); exit(code) })
      }
      process.argv = [process.argv[0], 'dacnet', '--version']
      const { main } = await import(${JSON.stringify(MAIN)})
      await main()
    } else {
      await import(${JSON.stringify(MAIN)})
      process.stderr.write(String(await churn()))
    }`
  const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 })
  return Number(stderr)
}

describe("a dacnet process's V8 flags", () => {
  it('let buffers outside the heap come and go without a full collection every few dozen MiB', async () => {
    // With only dacnet's modules loaded, a process marks its whole heap about every 70 MiB of such buffers (27-31
    // times for 2 GiB on a quiet machine); once main has run, 1-3 times in all (6 under a full test run's load): the
    // young generation's collections free them.
    const bare = await fullCollections(false)
    const dacnet = await fullCollections(true)
    expect(bare).toBeGreaterThanOrEqual(20)
    expect(dacnet * 3).toBeLessThan(bare)
  }, 120_000)
})
