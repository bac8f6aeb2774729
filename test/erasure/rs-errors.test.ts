/** Every kind of bad input to the Reed–Solomon codec ends in a DacnetError with its stable code. */
import { describe, expect, it } from 'vitest'
import { RsErrorCode, rsDecode, rsEncode } from '../../src/erasure/rs/index.ts'
import { DacnetError } from '../../src/errors.ts'

function shards(count: number, length = 64): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => new Uint8Array(length).fill(i + 1))
}

/** Runs `fn` and returns the code of the DacnetError it throws (fails the test if it returns or throws another kind). */
function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(DacnetError)
    return (err as DacnetError).code
  }
  throw new Error('expected a DacnetError, nothing was thrown')
}

const good = shards(3)
const goodRecovery = rsEncode(good, 2)

function decodeInput(entries: [unknown, unknown][]): Map<number, Uint8Array> {
  return new Map(entries) as Map<number, Uint8Array>
}

describe('rsEncode rejects', () => {
  it.each([
    ['no original shards', () => rsEncode([], 2), RsErrorCode.INVALID_SHARD_COUNT],
    ['recovery count 0', () => rsEncode(good, 0), RsErrorCode.INVALID_SHARD_COUNT],
    ['negative recovery count', () => rsEncode(good, -1), RsErrorCode.INVALID_SHARD_COUNT],
    ['fractional recovery count', () => rsEncode(good, 1.5), RsErrorCode.INVALID_SHARD_COUNT],
    ['NaN recovery count', () => rsEncode(good, Number.NaN), RsErrorCode.INVALID_SHARD_COUNT],
    ['string recovery count', () => rsEncode(good, '2' as unknown as number), RsErrorCode.INVALID_SHARD_COUNT],
    ['k + r above 65536', () => rsEncode(good, 65534), RsErrorCode.TOO_MANY_SHARDS],
    ['a shape the chunk layout cannot hold', () => rsEncode(good, 65533), RsErrorCode.UNSUPPORTED_SHARD_COUNT],
    ['an empty shard', () => rsEncode([new Uint8Array(0)], 1), RsErrorCode.INVALID_SHARD_SIZE],
    ['a shard length not a multiple of 64', () => rsEncode(shards(2, 100), 1), RsErrorCode.INVALID_SHARD_SIZE],
    ['a 32-byte shard', () => rsEncode(shards(2, 32), 1), RsErrorCode.INVALID_SHARD_SIZE],
    [
      'unequal shard lengths',
      () => rsEncode([new Uint8Array(64), new Uint8Array(128)], 1),
      RsErrorCode.SHARD_SIZE_MISMATCH,
    ],
    [
      'a number array as shard',
      () => rsEncode([[1, 2, 3] as unknown as Uint8Array], 1),
      RsErrorCode.INVALID_SHARD_TYPE,
    ],
    [
      'a Uint16Array as shard',
      () => rsEncode([new Uint16Array(32) as unknown as Uint8Array], 1),
      RsErrorCode.INVALID_SHARD_TYPE,
    ],
    [
      'a hole in the array',
      () => rsEncode([good[0]!, undefined as unknown as Uint8Array], 1),
      RsErrorCode.INVALID_SHARD_TYPE,
    ],
    ['null as shard', () => rsEncode([null as unknown as Uint8Array], 1), RsErrorCode.INVALID_SHARD_TYPE],
    ['a non-array', () => rsEncode('abc' as unknown as Uint8Array[], 1), RsErrorCode.INVALID_ARGUMENT],
    [
      'a Map instead of an array',
      () => rsEncode(new Map() as unknown as Uint8Array[], 1),
      RsErrorCode.INVALID_ARGUMENT,
    ],
  ])('%s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code)
  })
})

describe('rsDecode rejects', () => {
  const all: [number, Uint8Array][] = [
    [0, good[0]!],
    [1, good[1]!],
    [2, good[2]!],
    [3, goodRecovery[0]!],
    [4, goodRecovery[1]!],
  ]
  it.each([
    ['originalCount 0', () => rsDecode(0, 2, new Map(all)), RsErrorCode.INVALID_SHARD_COUNT],
    ['recoveryCount 0', () => rsDecode(3, 0, new Map(all)), RsErrorCode.INVALID_SHARD_COUNT],
    ['fractional originalCount', () => rsDecode(2.5, 2, new Map(all)), RsErrorCode.INVALID_SHARD_COUNT],
    ['k + r above 65536', () => rsDecode(3, 65534, new Map(all)), RsErrorCode.TOO_MANY_SHARDS],
    [
      'a shape the chunk layout cannot hold',
      () => rsDecode(3, 65533, new Map(all)),
      RsErrorCode.UNSUPPORTED_SHARD_COUNT,
    ],
    ['fewer than k shards', () => rsDecode(3, 2, new Map(all.slice(0, 2))), RsErrorCode.NOT_ENOUGH_SHARDS],
    ['no shards', () => rsDecode(3, 2, new Map()), RsErrorCode.NOT_ENOUGH_SHARDS],
    [
      'index n',
      () => rsDecode(3, 2, new Map([...all.slice(0, 2), [5, goodRecovery[0]!]])),
      RsErrorCode.INVALID_SHARD_INDEX,
    ],
    [
      'negative index',
      () => rsDecode(3, 2, new Map([...all.slice(0, 2), [-1, good[2]!]])),
      RsErrorCode.INVALID_SHARD_INDEX,
    ],
    [
      'fractional index',
      () => rsDecode(3, 2, new Map([...all.slice(0, 2), [1.5, good[2]!]])),
      RsErrorCode.INVALID_SHARD_INDEX,
    ],
    [
      'NaN index',
      () => rsDecode(3, 2, new Map([...all.slice(0, 2), [Number.NaN, good[2]!]])),
      RsErrorCode.INVALID_SHARD_INDEX,
    ],
    // A Map keeps 3 and '3' apart: the same shard index given twice, once as a string.
    [
      'an index given both as number and as string',
      () => rsDecode(3, 2, decodeInput([...all.slice(0, 2), [3, goodRecovery[0]!], ['3', goodRecovery[0]!]])),
      RsErrorCode.INVALID_SHARD_INDEX,
    ],
    [
      'a bigint index',
      () => rsDecode(3, 2, decodeInput([...all.slice(0, 2), [2n, good[2]!]])),
      RsErrorCode.INVALID_SHARD_INDEX,
    ],
    [
      'a non-Uint8Array shard',
      () => rsDecode(3, 2, decodeInput([...all.slice(0, 2), [2, 'abc']])),
      RsErrorCode.INVALID_SHARD_TYPE,
    ],
    [
      'a DataView shard',
      () => rsDecode(3, 2, decodeInput([...all.slice(0, 2), [2, new DataView(new ArrayBuffer(64))]])),
      RsErrorCode.INVALID_SHARD_TYPE,
    ],
    [
      'unequal shard lengths',
      () => rsDecode(3, 2, new Map([...all.slice(0, 2), [3, new Uint8Array(128)]])),
      RsErrorCode.SHARD_SIZE_MISMATCH,
    ],
    ['shards of 0 bytes', () => rsDecode(1, 1, new Map([[1, new Uint8Array(0)]])), RsErrorCode.INVALID_SHARD_SIZE],
    ['shards of 65 bytes', () => rsDecode(1, 1, new Map([[1, new Uint8Array(65)]])), RsErrorCode.INVALID_SHARD_SIZE],
    [
      'a plain object instead of a Map',
      () => rsDecode(3, 2, Object.fromEntries(all) as unknown as Map<number, Uint8Array>),
      RsErrorCode.INVALID_ARGUMENT,
    ],
    [
      'an array instead of a Map',
      () => rsDecode(3, 2, all as unknown as Map<number, Uint8Array>),
      RsErrorCode.INVALID_ARGUMENT,
    ],
  ])('%s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code)
  })
})

describe('accepted edge input', () => {
  it('takes Buffers and returns independent copies of the given originals', () => {
    const original = shards(3).map((s) => Buffer.from(s))
    const recovery = rsEncode(original, 2)
    const decoded = rsDecode(
      3,
      2,
      new Map<number, Uint8Array>([
        [0, original[0]!],
        [3, recovery[0]!],
        [4, recovery[1]!],
      ]),
    )
    expect(decoded.map((s) => Buffer.from(s).toString('hex'))).toEqual(original.map((s) => s.toString('hex')))
    decoded[0]![0] = 0xff
    expect(original[0]![0]).toBe(1)
    expect(Object.getPrototypeOf(decoded[0])).toBe(Uint8Array.prototype)
  })

  it('treats -0 as index 0', () => {
    const decoded = rsDecode(
      3,
      2,
      new Map<number, Uint8Array>([
        [-0, good[0]!],
        [1, good[1]!],
        [3, goodRecovery[0]!],
      ]),
    )
    expect(Buffer.from(decoded[2]!).equals(Buffer.from(good[2]!))).toBe(true)
  })

  it('keeps working after rejecting input', () => {
    expect(codeOf(() => rsEncode(shards(2, 100), 1))).toBe(RsErrorCode.INVALID_SHARD_SIZE)
    expect(rsEncode(good, 2).map((s) => Buffer.from(s).toString('hex'))).toEqual(
      goodRecovery.map((s) => Buffer.from(s).toString('hex')),
    )
  })
})
