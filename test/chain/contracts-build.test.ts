/** The committed contract artifacts are exactly what contracts/ compiles to (scripts/build-contracts.ts). */
import { readdirSync, readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  ARTIFACTS_DIR,
  CONTRACTS,
  type CompiledContract,
  compileContracts,
  exportPrefix,
  renderArtifact,
} from '../../scripts/build-contracts.ts'

const root = new URL('../../', import.meta.url)

describe('src/chain/artifacts', () => {
  // One compile (soljson takes a few seconds) shared by the checks below.
  let compiled: CompiledContract[]

  beforeAll(() => {
    compiled = compileContracts()
  })

  it('hold the ABI and bytecode that compiling contracts/ gives', async () => {
    expect(compiled.map((c) => c.name)).toEqual(CONTRACTS.map((c) => c.name))
    for (const contract of compiled) {
      const artifact = (await import(`../../src/chain/artifacts/${contract.name}.ts`)) as Record<string, unknown>
      const prefix = exportPrefix(contract.name)
      expect(artifact[`${prefix}Abi`], contract.name).toEqual(contract.abi)
      expect(artifact[`${prefix}Bytecode`], contract.name).toBe(contract.bytecode)
    }
  })

  it('are reproduced byte for byte, and there is no other artifact', () => {
    for (const contract of compiled) {
      const committed = readFileSync(new URL(`${ARTIFACTS_DIR}/${contract.name}.ts`, root), 'utf8')
      expect(committed, contract.name).toBe(renderArtifact(contract))
    }
    const files = readdirSync(new URL(ARTIFACTS_DIR, root)).sort()
    expect(files).toEqual(CONTRACTS.map((c) => `${c.name}.ts`).sort())
  })

  it('carry no compiler metadata, so the bytecode depends on the sources alone', () => {
    for (const contract of compiled) {
      // solc appends CBOR metadata (a map starting a2/a1 64 'ipfs' or 'solc') unless told not to.
      expect(contract.bytecode.includes('64736f6c63'), contract.name).toBe(false) // "dsolc"
      expect(contract.bytecode.includes('6469706673'), contract.name).toBe(false) // "dipfs"
    }
  })
})
