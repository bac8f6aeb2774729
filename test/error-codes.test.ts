/**
 * Error codes are part of the protocol and of every caller's error handling, so they live in one table per
 * module (src/<module>/errors.ts), every code in a table is one the code can actually produce, every code the
 * code produces is in a table, and PROTOCOL.md §3.8 lists them all.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = new URL('..', import.meta.url).pathname
const src = join(root, 'src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'artifacts' ? [] : sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

interface Table {
  module: string
  name: string
  codes: Record<string, string>
}

async function tables(): Promise<Table[]> {
  const out: Table[] = []
  for (const module of readdirSync(src)) {
    const path = join(src, module, 'errors.ts')
    let exists = false
    try {
      exists = statSync(path).isFile()
    } catch {}
    if (!exists) continue
    const exports = (await import(path)) as Record<string, unknown>
    for (const [name, value] of Object.entries(exports)) {
      if (!name.endsWith('ErrorCode') || typeof value !== 'object' || value === null) continue
      out.push({ module, name, codes: value as Record<string, string> })
    }
  }
  return out
}

const files = sourceFiles(src).map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }))
const protocol = readFileSync(join(root, 'docs/PROTOCOL.md'), 'utf8')
const section38 = protocol.slice(protocol.indexOf('### 3.8 '), protocol.indexOf('### 3.9 '))
const CODE_LITERAL = /'((?:API|ATTEST|CHAIN|CLI|COMMITTEE|ERASURE|NODE|P2P|STORAGE)_[A-Z0-9_]+)'/g

describe('error codes', () => {
  it('live in tables of their module (src/<module>/errors.ts), each with the module prefix, none twice', async () => {
    const all = await tables()
    expect([...new Set(all.map((t) => t.module))].sort()).toEqual(
      ['api', 'attest', 'chain', 'cli', 'committee', 'erasure', 'node', 'p2p', 'storage'].sort(),
    )
    const seen = new Map<string, string>()
    for (const table of all) {
      for (const code of Object.values(table.codes)) {
        expect(code, `${table.name}`).toMatch(/^[A-Z][A-Z0-9_]{2,63}$/)
        expect(code.split('_')[0], `${code} in ${table.name}`).toBe(
          table.module === 'erasure' ? 'ERASURE' : table.module.toUpperCase(),
        )
        expect(seen.get(code), `${code} is in ${seen.get(code)} and ${table.name}`).toBeUndefined()
        seen.set(code, table.name)
      }
    }
  })

  it('are thrown only from the tables: no code is written as a bare string', async () => {
    const known = new Set((await tables()).flatMap((t) => Object.values(t.codes)))
    const bare: string[] = []
    for (const { path, text } of files) {
      if (path.endsWith('/errors.ts')) continue
      for (const match of text.matchAll(CODE_LITERAL))
        bare.push(`${path}: ${match[1]}${known.has(match[1]!) ? '' : ' (in no table)'}`)
      for (const match of text.matchAll(/new DacnetError\(\s*'([^']+)'/g))
        bare.push(`${path}: new DacnetError('${match[1]}')`)
    }
    expect(bare).toEqual([])
  })

  it('are each used: a code no path can produce is not declared', async () => {
    const unused: string[] = []
    for (const table of await tables()) {
      for (const key of Object.keys(table.codes)) {
        const reference = new RegExp(`\\b${table.name}\\.${key}\\b`)
        if (!files.some(({ text }) => reference.test(text))) unused.push(`${table.name}.${key}`)
      }
    }
    expect(unused).toEqual([])
  })

  it('are all listed in PROTOCOL.md §3.8', async () => {
    const codes = (await tables()).flatMap((t) => Object.values(t.codes))
    expect(codes.filter((code) => !section38.includes(`\`${code}\``))).toEqual([])
  })
})
