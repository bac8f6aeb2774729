import { decodeEventLog, type Hex, hexToBytes } from 'viem'
import { dacnetRegistryAbi } from './artifacts/DacnetRegistry.ts'
import type { RegistryEvent } from './registry-replay.ts'

/** The events that change a committee, decoded; others (unbonding, withdrawals, records) are not needed here. */
export function decodeRegistryEvent(data: Hex, topics: readonly Hex[]): RegistryEvent | undefined {
  let decoded: { eventName: string; args: Record<string, unknown> }
  try {
    decoded = decodeEventLog({ abi: dacnetRegistryAbi, data, topics: topics as [Hex, ...Hex[]] }) as typeof decoded
  } catch {
    return undefined // not a registry event (none other is emitted from its address)
  }
  const a = decoded.args
  const bytes = (v: unknown) => hexToBytes(v as Hex)
  switch (decoded.eventName) {
    case 'MemberRegistered':
      return {
        kind: 'MemberRegistered',
        operator: a.operator as string,
        index: Number(a.index),
        publicKey: bytes(a.publicKey),
        proofOfPossession: bytes(a.proofOfPossession),
        peerId: bytes(a.peerId),
        multiaddrs: a.multiaddrs as string[],
        stake: a.stake as bigint,
      }
    case 'StakeChanged':
      return { kind: 'StakeChanged', operator: a.operator as string, index: Number(a.index), stake: a.stake as bigint }
    case 'MemberLeft':
      return {
        kind: 'MemberLeft',
        operator: a.operator as string,
        index: Number(a.index),
        movedFrom: Number(a.movedFrom),
      }
    case 'MultiaddrsChanged':
      return { kind: 'MultiaddrsChanged', operator: a.operator as string, multiaddrs: a.multiaddrs as string[] }
    case 'ThresholdsChanged':
      return {
        kind: 'ThresholdsChanged',
        qNum: a.qNum as bigint,
        qDen: a.qDen as bigint,
        fNum: a.fNum as bigint,
        fDen: a.fDen as bigint,
      }
    case 'RetentionChanged':
      return { kind: 'RetentionChanged', retentionSeconds: a.retentionSeconds as bigint }
    case 'SequencerAdded':
      return { kind: 'SequencerAdded', peerId: bytes(a.peerId) }
    case 'SequencerRemoved':
      return { kind: 'SequencerRemoved', peerId: bytes(a.peerId) }
    default:
      return undefined
  }
}
