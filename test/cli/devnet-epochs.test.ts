/**
 * The devnet across an epoch change on its chain: a member joins and another leaves through the registry during
 * the run, dispersal moves to the new committee at its epoch, and no blob fails — every certificate also verified
 * by the contract.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killLeftovers, removeDir, runCliProcess, tempDir } from './helpers.ts'

afterAll(() => killLeftovers())

describe('dacnet devnet --epoch-blocks', () => {
  it('moves dispersal to the new committee at its epoch without a failed blob', async () => {
    const dir = await tempDir()
    try {
      const out = join(dir, 'devnet')
      const r = await runCliProcess(
        [
          'devnet',
          '--nodes',
          '4',
          '--blobs',
          '3',
          '--blob-size',
          '100KiB',
          '--epoch-blocks',
          '8',
          '--once',
          '--json',
          '--out',
          out,
        ],
        { timeoutMs: 150_000 },
      )
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
      const blobs = r.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
      expect(blobs).toHaveLength(3)
      for (const blob of blobs) {
        expect(blob, JSON.stringify(blob)).toMatchObject({ ok: true, error: null, l1: { verified: true } })
      }
      const change = /node-5 joins and node-1 leaves the committee from epoch (\d+)/.exec(r.stderr)
      expect(change, r.stderr).not.toBeNull()
      const next = Number(change![1])
      // Before the change, the four first nodes (300 + 200 + 150 + 120 tokens); from its epoch node-5 (100)
      // instead of node-1.
      const token = 10n ** 18n
      expect(blobs[0].epoch).toBeLessThan(next)
      expect(BigInt(blobs[0].totalStake)).toBe(770n * token)
      expect(blobs[2].epoch).toBeGreaterThanOrEqual(next)
      expect(BigInt(blobs[2].totalStake)).toBe(570n * token)
      expect(blobs[2].members).toBe(4)

      const chain = JSON.parse(await readFile(join(out, 'chain.json'), 'utf8'))
      expect(chain).toMatchObject({
        rpcUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        chainId: 31337,
        registry: expect.stringMatching(/^0x[0-9a-f]{40}$/i),
        certificateVerifier: expect.stringMatching(/^0x[0-9a-f]{40}$/i),
      })
      const certificates = await readdir(join(out, 'certificates'))
      for (const blob of blobs) {
        expect(certificates).toContain(`${blob.blobId}.l1.hex`)
        const onchain = (await readFile(join(out, 'certificates', `${blob.blobId}.l1.hex`), 'utf8')).trim()
        expect(onchain).toMatch(/^0x(01[0-9a-f]+)$/)
      }
    } finally {
      await removeDir(dir)
    }
  }, 160_000)
})
