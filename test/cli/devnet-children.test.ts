import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { nodeEnv, nodeExecArgv } from '../../src/cli/devnet/children.ts'

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
