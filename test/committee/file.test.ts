import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { type CommitteeFileJson, parseCommitteeFile, toCommitteeFile } from '../../src/committee/file.ts'
import { FileCommitteeSource } from '../../src/committee/file-source.ts'
import { StaticCommitteeSource } from '../../src/committee/source.ts'
import vectors from './fixtures/vectors.json' with { type: 'json' }
import { acceptAllKeys } from './helpers.ts'

const verifier = acceptAllKeys
const example = (): CommitteeFileJson => structuredClone(vectors.committeeFile) as CommitteeFileJson
const code = (c: string) => expect.objectContaining({ code: c })

describe('committee file', () => {
  it('parses the documented example and writes it back unchanged', () => {
    const registry = parseCommitteeFile(JSON.stringify(example()), { verifier })
    expect(registry.networkId).toBe(1)
    expect(registry.committees.map((c) => c.epoch)).toEqual([0, 1])
    const [e0, e1] = registry.committees
    expect(e0!.members[0]!.stake).toBe(32n * 10n ** 18n)
    expect(e0!.members[0]!.multiaddrs).toHaveLength(2)
    expect(e1!.threshold).toEqual({ num: 3n, den: 4n })
    expect(e1!.totalShards).toBe(20)
    expect(
      registry.committees.map((c) => ({
        epoch: c.epoch,
        totalStake: c.totalStake.toString(),
        blobs: vectors.shapes[0]!.blobs.map(({ dataSize }) => ({ dataSize, ...c.shapeFor(dataSize) })),
      })),
    ).toEqual(vectors.shapes)
    const written = toCommitteeFile(registry)
    expect(written.epochs[0]).toEqual(example().epochs[0])
    const reread = parseCommitteeFile(written, { verifier }).committees[1]!
    expect([reread.totalShards, reread.shapeFor(1 << 20)]).toEqual([20, e1!.shapeFor(1 << 20)])
  })

  it('refuses what is not the documented shape', () => {
    const cases: [(f: CommitteeFileJson) => void, string][] = [
      [(f) => ((f as unknown as Record<string, unknown>)['extra'] = 1), CommitteeErrorCode.MALFORMED_FILE],
      [
        (f) => ((f.epochs[0] as unknown as Record<string, unknown>)['treshold'] = '2/3'),
        CommitteeErrorCode.MALFORMED_FILE,
      ],
      [(f) => (f.version = 2), CommitteeErrorCode.UNSUPPORTED_VERSION],
      [(f) => (f.epochs = []), CommitteeErrorCode.MALFORMED_FILE],
      [(f) => (f.epochs[1]!.epoch = 0), CommitteeErrorCode.DUPLICATE_EPOCH],
      [(f) => (f.epochs[0]!.epoch = -1), CommitteeErrorCode.INVALID_EPOCH],
      [(f) => (f.epochs[0]!.members[0]!.stake = 5 as unknown as string), CommitteeErrorCode.INVALID_STAKE],
      [(f) => (f.epochs[0]!.members[0]!.stake = '-5'), CommitteeErrorCode.INVALID_STAKE],
      [(f) => (f.epochs[0]!.members[0]!.stake = '0'), CommitteeErrorCode.INVALID_STAKE],
      [(f) => (f.epochs[0]!.members[0]!.publicKey = '0x1234'), CommitteeErrorCode.MALFORMED_KEY],
      [(f) => (f.epochs[0]!.members[0]!.publicKey = `0x${'zz'.repeat(48)}`), CommitteeErrorCode.MALFORMED_KEY],
      [(f) => (f.epochs[0]!.members[0]!.proofOfPossession = '0x00'), CommitteeErrorCode.INVALID_POP],
      [(f) => (f.epochs[0]!.threshold = '1/3'), CommitteeErrorCode.THRESHOLD_NOT_ABOVE_ADVERSARY],
      [(f) => (f.epochs[0]!.threshold = 0.66 as unknown as string), CommitteeErrorCode.INVALID_THRESHOLD],
      [(f) => (f.epochs[0]!.totalShards = 2), CommitteeErrorCode.ENCODING_UNSATISFIABLE],
      [(f) => (f.networkId = -1), CommitteeErrorCode.INVALID_NETWORK_ID],
      [
        (f) => (f.epochs[0]!.members[1]!.peerId = f.epochs[0]!.members[0]!.peerId),
        CommitteeErrorCode.DUPLICATE_PEER_ID,
      ],
    ]
    for (const [change, expected] of cases) {
      const file = example()
      change(file)
      expect(() => parseCommitteeFile(file, { verifier }), expected).toThrow(code(expected))
    }
    expect(() => parseCommitteeFile('{not json', { verifier })).toThrow(code(CommitteeErrorCode.MALFORMED_FILE))
  })

  it('takes a sequencer by peer id alone, by key alone, or both, but not by neither', () => {
    const peerId = example().epochs[0]!.sequencers![0]!.peerId!
    const publicKey = example().epochs[0]!.sequencers![0]!.publicKey!
    for (const entry of [{ peerId }, { publicKey }, { peerId, publicKey }]) {
      const file = example()
      file.epochs[0]!.sequencers = [entry]
      const committee = parseCommitteeFile(file, { verifier }).committees[0]!
      expect(
        committee.isSequencer({ peerId }) ||
          committee.isSequencer({ publicKey: Buffer.from(publicKey.slice(2), 'hex') }),
      ).toBe(true)
    }
    const file = example()
    file.epochs[0]!.sequencers = [{}]
    expect(() => parseCommitteeFile(file, { verifier })).toThrow(code(CommitteeErrorCode.MALFORMED_FILE))
  })
})

describe('committee sources', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dacnet-committee-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('serves epochs from memory and refuses unknown ones', async () => {
    const source = new StaticCommitteeSource(parseCommitteeFile(example(), { verifier }))
    expect(await source.epochs()).toEqual([0, 1])
    expect((await source.getCommittee(1)).epoch).toBe(1)
    await expect(source.getCommittee(2)).rejects.toThrow(code(CommitteeErrorCode.UNKNOWN_EPOCH))
  })

  it('reads a file once, reloads on request, and bounds its size', async () => {
    const path = join(dir, 'committee.json')
    const file = example()
    file.epochs = [file.epochs[0]!]
    await writeFile(path, JSON.stringify(file))
    const source = new FileCommitteeSource(path, { verifier, networkId: 1 })
    expect(await source.epochs()).toEqual([0])
    await expect(source.getCommittee(1)).rejects.toThrow(code(CommitteeErrorCode.UNKNOWN_EPOCH))
    await writeFile(path, JSON.stringify(example()))
    expect(await source.epochs()).toEqual([0]) // cached until reload
    await source.reload()
    expect((await source.getCommittee(1)).members).toHaveLength(3)

    await expect(new FileCommitteeSource(join(dir, 'missing.json'), { verifier }).epochs()).rejects.toThrow(
      code(CommitteeErrorCode.READ_FAILED),
    )
    await expect(new FileCommitteeSource(path, { verifier, maxFileSize: 100 }).epochs()).rejects.toThrow(
      code(CommitteeErrorCode.READ_FAILED),
    )
    await expect(new FileCommitteeSource(path, { verifier, networkId: 2 }).epochs()).rejects.toThrow(
      code(CommitteeErrorCode.INVALID_NETWORK_ID),
    )
  })
})
