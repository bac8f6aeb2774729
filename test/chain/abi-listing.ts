import { dacnetCertificateVerifierAbi } from '../../src/chain/artifacts/DacnetCertificateVerifier.ts'
import { dacnetRegistryAbi } from '../../src/chain/artifacts/DacnetRegistry.ts'

interface AbiParam {
  type: string
  name?: string
  components?: readonly AbiParam[]
}
interface AbiItem {
  type: string
  name?: string
  inputs?: readonly AbiParam[]
  outputs?: readonly AbiParam[]
  stateMutability?: string
}

function param(p: AbiParam): string {
  const type = p.type === 'tuple' ? `(${(p.components ?? []).map(param).join(', ')})` : p.type
  return p.name ? `${type} ${p.name}` : type
}

/** The external functions of a contract, one per line, as PROTOCOL.md §4.7 lists them. */
export function abiListing(abi: readonly AbiItem[]): string {
  return abi
    .filter((item) => item.type === 'function')
    .map((f) => {
      const returns = f.outputs?.length ? ` returns (${f.outputs.map(param).join(', ')})` : ''
      return `${f.name}(${(f.inputs ?? []).map(param).join(', ')}) ${f.stateMutability}${returns}`
    })
    .join('\n')
}

export const LISTED = {
  DacnetRegistry: dacnetRegistryAbi,
  DacnetCertificateVerifier: dacnetCertificateVerifierAbi,
} as const
