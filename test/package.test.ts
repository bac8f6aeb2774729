import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('..', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))

describe('the package', () => {
  it("imports as 'dacnet' from the repository root, in plain Node, with its public API", () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('dacnet'); console.log(JSON.stringify(['rsEncode','rsDecode','encodeBlob','decodeBlob','verifyBadEncoding','verifyCertificate','Disperser','LightClient','Retriever','CommitteeNode','ShardStore','FileCommitteeSource'].map((n) => [n, typeof m[n]])))",
      ],
      { cwd: root, encoding: 'utf8' },
    )
    for (const [name, type] of JSON.parse(out)) expect(type, name).toBe('function')
  })

  it('declares what a user relies on: ESM, a bin, an honest engines range', () => {
    expect(pkg.type).toBe('module')
    expect(pkg.bin.dacnet).toBe('./src/cli/main.ts')
    expect(pkg.engines.node).toMatch(/^>=2[2-9]/)
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22)
  })
})
