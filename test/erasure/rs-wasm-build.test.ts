/** The committed rs.wasm is exactly what its AssemblyScript source compiles to (scripts/build-wasm.ts). */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildRsWasm } from '../../scripts/build-wasm.ts'

interface WasmModuleApi {
  Module: { new (bytes: Uint8Array): object; imports(module: object): unknown[] }
}

describe('src/erasure/rs/rs.wasm', () => {
  it('is reproduced byte for byte by rebuilding asm/rs', async () => {
    const committed = readFileSync(new URL('../../src/erasure/rs/rs.wasm', import.meta.url))
    const rebuilt = await buildRsWasm()
    expect(rebuilt.length).toBe(committed.length)
    expect(Buffer.from(rebuilt).equals(committed)).toBe(true)
  })

  it('imports nothing, so it instantiates synchronously anywhere', () => {
    // The project's TypeScript libs declare no WebAssembly API; this is the part used here.
    const { Module } = (globalThis as unknown as { WebAssembly: WasmModuleApi }).WebAssembly
    const module = new Module(readFileSync(new URL('../../src/erasure/rs/rs.wasm', import.meta.url)))
    expect(Module.imports(module)).toEqual([])
  })
})
