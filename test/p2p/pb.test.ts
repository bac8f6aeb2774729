import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = new URL('../..', import.meta.url).pathname

describe('wire code', () => {
  it('the committed src/p2p/pb/dacnet.js and .d.ts are exactly what `npm run proto` makes from dacnet.proto', async () => {
    const out = await mkdtemp(join(tmpdir(), 'dacnet-pb-'))
    try {
      await promisify(execFile)('bash', ['scripts/gen-proto.sh'], {
        cwd: root,
        env: { ...process.env, OUT_DIR: out, PATH: `${join(root, 'node_modules/.bin')}:${process.env['PATH']}` },
      })
      for (const file of ['dacnet.js', 'dacnet.d.ts']) {
        const fresh = await readFile(join(out, file), 'utf8')
        const committed = await readFile(join(root, 'src/p2p/pb', file), 'utf8')
        expect(fresh, file).toBe(committed)
      }
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  }, 60_000)
})
