/**
 * Builds src/erasure/rs/rs.wasm from the AssemblyScript in asm/rs (`node scripts/build-wasm.ts`).
 * `buildRsWasm()` compiles in memory; test/erasure/rs-wasm-build.test.ts checks that it reproduces the
 * committed bytes, so the binary never drifts from its source. The build is deterministic: fixed
 * compiler version (package-lock), fixed flags, no debug info or source maps.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import asc from 'assemblyscript/asc'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const RS_WASM_SOURCE = 'asm/rs/index.ts'
export const RS_WASM_OUTPUT = 'src/erasure/rs/rs.wasm'

/** Initial memory in 64 KiB pages: the fixed tables of asm/rs/layout.ts end at DYNAMIC_BASE = 10 MiB. */
const INITIAL_PAGES = 160

const FLAGS = [
  '--optimizeLevel',
  '3',
  '--shrinkLevel',
  '0',
  '--runtime',
  'stub',
  '--noAssert',
  '--enable',
  'simd,relaxed-simd',
  '--initialMemory',
  String(INITIAL_PAGES),
  // No imports at all: trapping is enough, the TypeScript side validates every argument first.
  '--use',
  'abort=',
]

/** Compiles asm/rs and returns the wasm bytes. */
export async function buildRsWasm(): Promise<Uint8Array> {
  let binary: Uint8Array | undefined
  const stderr: string[] = []
  const result = await asc.main([RS_WASM_SOURCE, '--outFile', 'rs.wasm', ...FLAGS], {
    readFile: (name, baseDir) => {
      try {
        return readFileSync(resolve(ROOT, baseDir, name), 'utf8')
      } catch {
        return null
      }
    },
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents
    },
    listFiles: () => [],
    stdout: { write: () => true } as never,
    stderr: {
      write: (chunk: string | Uint8Array) => {
        stderr.push(String(chunk))
        return true
      },
    } as never,
    reportDiagnostic: undefined,
  })
  if (result.error || !binary)
    throw new Error(`asc failed: ${result.error?.message ?? 'no output'}\n${stderr.join('')}`)
  return binary
}

if (import.meta.main) {
  const bytes = await buildRsWasm()
  writeFileSync(resolve(ROOT, RS_WASM_OUTPUT), bytes)
  process.stdout.write(`${RS_WASM_OUTPUT}: ${bytes.length} bytes\n`)
}
