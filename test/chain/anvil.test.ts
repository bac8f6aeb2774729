/**
 * The local chain leaves nothing behind: anvil writes the states it moves out of memory to a cache directory, and
 * each anvil dacnet starts gets its own, removed when it stops.
 */
import { existsSync, readdirSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startAnvil } from '../../src/chain/anvil.ts'

const FOUNDRY_CACHE = join(homedir(), '.foundry', 'anvil', 'tmp')

const ours = () => new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('dacnet-anvil-')))
const foundry = () => new Set(existsSync(FOUNDRY_CACHE) ? readdirSync(FOUNDRY_CACHE) : [])

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return ((await response.json()) as { result?: unknown }).result
}

describe('a local chain', () => {
  it('keeps the states it persists in a cache directory of its own, and removes it on stop', async () => {
    const before = ours()
    const foundryBefore = foundry()
    const anvil = await startAnvil()
    const added = [...ours()].filter((name) => !before.has(name))
    expect(added).toHaveLength(1)
    const cache = join(tmpdir(), added[0]!)
    // Enough blocks that anvil moves older states out of memory (it keeps a few hundred): into our directory.
    await rpc(anvil.rpcUrl, 'anvil_mine', ['0x200'])
    expect(await rpc(anvil.rpcUrl, 'eth_blockNumber', [])).toBe('0x200')
    expect(readdirSync(cache).length).toBeGreaterThan(0)
    await anvil.stop()
    expect(existsSync(cache)).toBe(false)
    expect([...foundry()].filter((name) => !foundryBefore.has(name))).toEqual([])
  })
})
