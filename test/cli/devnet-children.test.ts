import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { CommandContext } from '../../src/cli/context.ts'
import { type NodeProcess, nodeEnv, nodeExecArgv } from '../../src/cli/devnet/children.ts'
import type { DevnetLayout } from '../../src/cli/devnet/layout.ts'
import { startNodes } from '../../src/cli/devnet/run.ts'

const run = promisify(execFile)

/** The young generation (V8's new space, two semi-spaces) of a Node.js process started with `execArgv`, in MiB, once it has allocated hard. */
async function youngGenerationMiB(execArgv: string[]): Promise<number> {
  const script = `
    const kept = []
    for (let i = 0; i < 3e6; i++) kept.push({ i })
    const space = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
    process.stdout.write(String(space.space_size / 2 ** 20))`
  const { stdout } = await run(process.execPath, [...execArgv, '-e', script], { timeout: 30_000 })
  return Number(stdout)
}

describe("a devnet node process's Node.js options", () => {
  it("cap V8's young generation, and DACNET_NODE_EXEC_ARGV can lift the cap", async () => {
    const capped = await youngGenerationMiB(nodeExecArgv({}))
    const lifted = await youngGenerationMiB(nodeExecArgv({ DACNET_NODE_EXEC_ARGV: '--max-semi-space-size=16' }))
    // 4 MiB semi-spaces: the new space stays near 8 MiB (9.75 seen on a loaded machine); with 16 MiB ones it grows
    // to about 32 (and to 128 without any option).
    expect(capped).toBeGreaterThan(0)
    expect(capped).toBeLessThanOrEqual(12)
    expect(lifted).toBeGreaterThan(2 * capped)
  })
})

describe("a devnet node process's environment", () => {
  /** MiB a process gives back when it frees a second 16 MiB block it had filled (the first sets glibc's state). */
  async function returnedOnFree(env: Record<string, string | undefined>): Promise<number> {
    const script = `
      const rss = () => Number(require('node:fs').readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096
      // Collections until the block's memory is gone, or 30 at most (V8 frees it after a collection).
      const settle = async (until) => {
        for (let i = 0; i < 30 && !(until?.() ?? false); i++) { gc(); await new Promise((r) => setTimeout(r, 10)) }
      }
      ;(async () => {
        let block = Buffer.allocUnsafeSlow(16 << 20).fill(1)
        block = undefined
        await settle()
        block = Buffer.allocUnsafeSlow(16 << 20).fill(2)
        const held = rss()
        block = undefined
        await settle(() => held - rss() > 12 * 2 ** 20)
        process.stdout.write(String((held - rss()) / 2 ** 20))
      })()`
    const { stdout } = await run(process.execPath, ['--expose-gc', '-e', script], { env, timeout: 30_000 })
    return Number(stdout)
  }

  it.runIf(process.platform === 'linux')(
    'gives a freed large block back to the system, which glibc by default keeps',
    async () => {
      const { MALLOC_ARENA_MAX: _a, MALLOC_MMAP_THRESHOLD_: _m, MALLOC_TRIM_THRESHOLD_: _t, ...plain } = process.env
      // What a store's batch leaves once freed: with the node environment it is no longer resident.
      expect(await returnedOnFree(nodeEnv(plain))).toBeGreaterThan(12)
      // glibc's defaults raise the mmap threshold past the first freed block, so the second stays in the heap.
      const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
      if (glibc?.glibcVersionRuntime !== undefined) expect(await returnedOnFree(plain)).toBeLessThan(4)
    },
  )

  it("sets glibc's allocator to one arena and fixed thresholds, unless the devnet's own environment says otherwise", async () => {
    const malloc = async (env: Record<string, string | undefined>) => {
      const names = ['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_']
      const script = `process.stdout.write(${JSON.stringify(names)}.map((name) => process.env[name]).join(' '))`
      const { stdout } = await run(process.execPath, ['-e', script], { env: nodeEnv(env), timeout: 30_000 })
      return stdout
    }
    const {
      MALLOC_ARENA_MAX: _a,
      MALLOC_MMAP_THRESHOLD_: _m,
      MALLOC_TRIM_THRESHOLD_: _t,
      ...withoutMalloc
    } = process.env
    expect(await malloc(withoutMalloc)).toBe('1 4194304 33554432')
    expect(await malloc({ ...withoutMalloc, MALLOC_ARENA_MAX: '8' })).toBe('8 4194304 33554432')
    // The rest of the environment is passed on.
    expect(nodeEnv({ PATH: '/bin', DACNET_HOME: '/x' })).toEqual({
      MALLOC_ARENA_MAX: '1',
      MALLOC_MMAP_THRESHOLD_: '4194304',
      MALLOC_TRIM_THRESHOLD_: '33554432',
      PATH: '/bin',
      DACNET_HOME: '/x',
    })
  })
})

describe('starting the devnet nodes', () => {
  it('starts none once Ctrl-C came during the set-up before it: no listener waits on a signal already aborted', async () => {
    const reason = new Error('stopped by SIGINT')
    const children: NodeProcess[] = []
    const notes: string[] = []
    const ctx = { note: (line: string) => notes.push(line) } as unknown as CommandContext
    const layout = { nodes: [{ name: 'node-1' }] } as unknown as DevnetLayout
    const started = startNodes(ctx, layout, children, AbortSignal.abort(reason), new AbortController().signal)
    await expect(started).rejects.toBe(reason)
    expect(children).toEqual([])
    expect(notes).toEqual([])
  })
})
