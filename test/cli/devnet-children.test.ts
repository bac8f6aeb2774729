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
  it("caps glibc's malloc arenas at two, unless the devnet's own environment says otherwise", async () => {
    const arenas = async (env: Record<string, string | undefined>) => {
      const script = 'process.stdout.write(String(process.env.MALLOC_ARENA_MAX))'
      const { stdout } = await run(process.execPath, ['-e', script], { env: nodeEnv(env), timeout: 30_000 })
      return stdout
    }
    const { MALLOC_ARENA_MAX: _, ...withoutArenas } = process.env
    expect(await arenas(withoutArenas)).toBe('2')
    expect(await arenas({ ...withoutArenas, MALLOC_ARENA_MAX: '8' })).toBe('8')
    // The rest of the environment is passed on.
    expect(nodeEnv({ PATH: '/bin', DACNET_HOME: '/x' })).toEqual({
      MALLOC_ARENA_MAX: '2',
      PATH: '/bin',
      DACNET_HOME: '/x',
    })
  })
})
