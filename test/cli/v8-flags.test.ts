import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { wantsV8Flags } from '../../src/cli/v8-flags.ts'

const run = promisify(execFile)
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).href

/**
 * Full collections a Node.js process runs while it allocates 4 GiB of 64 KiB buffers holding on to 4 MiB of them
 * (a sequencer's frames and shards: memory outside V8's heap, whose own heap stays small), once it has loaded
 * dacnet's CLI. With `argv`, the process first runs dacnet's main with it (`dacnet disperse --help`), as a dacnet
 * process does, and allocates once main is done.
 */
async function fullCollections(argv?: string[]): Promise<number> {
  const viaMain = argv !== undefined
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
      process.argv = [process.argv[0], 'dacnet', ...${JSON.stringify(argv ?? [])}]
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
  it('let a dispersing process free buffers outside the heap without a full collection every few dozen MiB', async () => {
    // With only dacnet's modules loaded, a process marks its whole heap about every 70 MiB of such buffers (27-31
    // times for 2 GiB on a quiet machine); once main has run a flagged command, 1-3 times in all (6 under a full test
    // run's load): the young generation's collections free them. A committee node keeps V8's default.
    const bare = await fullCollections()
    const disperse = await fullCollections(['disperse', '--help'])
    const node = await fullCollections(['--debug', 'node', '--help'])
    expect(bare).toBeGreaterThanOrEqual(20)
    expect(disperse * 3).toBeLessThan(bare)
    expect(node * 3).toBeGreaterThan(bare)
  }, 120_000)

  it('are set by the commands that disperse, retrieve or sample, not by a committee node', () => {
    for (const command of ['devnet', 'disperse', 'retrieve', 'sample', 'da-server']) {
      expect(wantsV8Flags([command, '--help'])).toBe(true)
      expect(wantsV8Flags(['--debug', command])).toBe(true)
    }
    for (const argv of [
      ['node'],
      ['--debug', 'node', '--config', 'x.json'],
      ['init'],
      ['db', 'check'],
      [],
      ['--version'],
    ]) {
      expect(wantsV8Flags(argv)).toBe(false)
    }
  })
})
