/**
 * The members a fuzzed sequencer disperses to: five committees of different shapes, every member a real
 * MemberService over its own LevelDB ShardStore, and a registered sequencer's peer id. A store is offered exactly
 * as the store protocol's handler does it (src/p2p/store.ts): the request's header bytes decoded, `admit` with the
 * announced shard count, then `store` with the shards, which verifies every proof and writes them before the
 * signature is returned. Nothing here re-implements a check: a refusal is the service's own, with its code.
 *
 * Keys are derived from fixed labels, so committees, blob ids and assignments are the same in every run and a
 * failing seed replays exactly.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { SecretKey } from '../../src/attest/bls.ts'
import { publicKeyOf, secretKeyFromSeed } from '../../src/attest/keys.ts'
import { blsKeyVerifier, createProofOfPossession } from '../../src/attest/pop.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { parseCommitteeFile } from '../../src/committee/file.ts'
import { StaticCommitteeSource } from '../../src/committee/source.ts'
import { blobIdOf } from '../../src/erasure/blob-id.ts'
import { decodeHeader } from '../../src/erasure/header.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { isDacnetError } from '../../src/errors.ts'
import { silentLogger } from '../../src/logger.ts'
import { MemberService } from '../../src/node/member-service.ts'
import { intakeAll } from '../../src/p2p/store.ts'
import { ShardStore } from '../../src/storage/store.ts'

/** Largest blob the fuzzed members take: big enough for n = 64 at four members, small enough for 10,000 cases. */
export const FUZZ_MAX_BLOB_SIZE = 64 * 1024

/** One committee the fuzzer disperses to. */
export interface CommitteeSpec {
  readonly name: string
  readonly networkId: number
  readonly epoch: number
  readonly stakes: readonly bigint[]
  readonly threshold?: string
  readonly adversary?: string
  /** A fixed n (the committee file's `totalShards`); absent: n per blob from its size (PROTOCOL.md §2.3). */
  readonly totalShards?: number
}

/**
 * Shapes that reach different code paths: powers of two chosen per blob size (four equal stakes; seven unequal
 * ones), and fixed n that are not powers of two, so Merkle levels carry odd nodes up — low rate (k = 8, n = 20),
 * high rate with several chunks of originals (k = 17, n = 23), and a wide low rate (k = 8, n = 37).
 */
export const COMMITTEE_SPECS: readonly CommitteeSpec[] = [
  { name: 'four equal', networkId: 9101, epoch: 0, stakes: [25n, 25n, 25n, 25n] },
  { name: 'seven unequal', networkId: 9102, epoch: 3, stakes: [30n, 20n, 15n, 12n, 10n, 8n, 5n] },
  {
    name: 'three, n = 20',
    networkId: 9103,
    epoch: 1,
    stakes: [40n, 35n, 25n],
    threshold: '3/4',
    adversary: '1/4',
    totalShards: 20,
  },
  {
    name: 'two, n = 23',
    networkId: 9104,
    epoch: 7,
    stakes: [60n, 40n],
    threshold: '9/10',
    adversary: '1/10',
    totalShards: 23,
  },
  { name: 'five, n = 37', networkId: 9105, epoch: 2, stakes: [50n, 20n, 15n, 10n, 5n], totalShards: 37 },
]

export interface FuzzMember {
  readonly index: number
  readonly secretKey: SecretKey
  readonly publicKey: Uint8Array
}

export interface FuzzCommittee {
  readonly spec: CommitteeSpec
  readonly committee: Committee
  readonly source: StaticCommitteeSource
  readonly members: readonly FuzzMember[]
}

/** What one store came to: the member's signature, or its refusal's code. */
export type StoreOutcome = { signature: Uint8Array } | { code: string; message: string }

const label = (text: string) => createHash('sha256').update(`dacnet-encoding-fuzz/${text}`).digest()
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

/** The registered sequencer every committee lists: the peer the stores come from. */
export async function sequencerPeer(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', label('sequencer')))
}

/** The committees of COMMITTEE_SPECS, parsed from committee files as a node loads them (proofs of possession checked). */
export async function fuzzCommittees(sequencer: PeerId): Promise<FuzzCommittee[]> {
  const out: FuzzCommittee[] = []
  for (const spec of COMMITTEE_SPECS) {
    const members: FuzzMember[] = []
    const entries = []
    for (let i = 0; i < spec.stakes.length; i++) {
      const secretKey = secretKeyFromSeed(label(`${spec.name}/member ${i}/bls`))
      const peerKey = await generateKeyPairFromSeed('Ed25519', label(`${spec.name}/member ${i}/peer`))
      members.push({ index: i, secretKey, publicKey: publicKeyOf(secretKey) })
      entries.push({
        peerId: peerIdFromPrivateKey(peerKey).toString(),
        publicKey: hex(publicKeyOf(secretKey)),
        proofOfPossession: hex(createProofOfPossession(secretKey)),
        stake: spec.stakes[i]!.toString(),
      })
    }
    const file = {
      version: 1,
      networkId: spec.networkId,
      epochs: [
        {
          epoch: spec.epoch,
          ...(spec.threshold ? { threshold: spec.threshold } : {}),
          ...(spec.adversary ? { adversary: spec.adversary } : {}),
          ...(spec.totalShards ? { totalShards: spec.totalShards } : {}),
          members: entries,
          sequencers: [{ peerId: sequencer.toString() }],
        },
      ],
    }
    const registry = parseCommitteeFile(JSON.stringify(file), { verifier: blsKeyVerifier })
    const source = new StaticCommitteeSource(registry)
    out.push({ spec, committee: await source.getCommittee(spec.epoch), source, members })
  }
  return out
}

/**
 * Where the members' stores live: /dev/shm when there is one (a synced write costs nothing there, and 10,000 cases
 * make tens of thousands of them), else the system's temporary directory.
 */
function storeParent(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
}

/** Small LevelDB buffers: a fuzzed blob is at most 64 KiB and about twenty stores are open at once. */
const STORE_OPTIONS = {
  writeBufferBytes: 1024 * 1024,
  blockCacheBytes: 1024 * 1024,
  maxFileBytes: 4 * 1024 * 1024,
  backgroundPrune: false,
}

/**
 * Every member of every fuzzed committee, each a MemberService over its own store. Stores fill up (a signed store
 * writes its shards), so `recycle()` drops them all and opens empty ones; the suite calls it every few hundred cases.
 */
export class FuzzMembers {
  readonly committees: readonly FuzzCommittee[]
  readonly sequencer: PeerId
  #dir = ''
  #stores: ShardStore[] = []
  #services = new Map<FuzzCommittee, MemberService[]>()
  /** Blob ids each store signed since it was opened, as `networkId/member/blobId`. */
  #signed = new Set<string>()

  private constructor(committees: FuzzCommittee[], sequencer: PeerId) {
    this.committees = committees
    this.sequencer = sequencer
  }

  static async open(): Promise<FuzzMembers> {
    const sequencer = await sequencerPeer()
    const members = new FuzzMembers(await fuzzCommittees(sequencer), sequencer)
    await members.#openStores()
    return members
  }

  /**
   * Offers one member a store as the store protocol's handler does: decode the request's header, admit it with the
   * shard count, store the shards. Returns the signature, or the refusal's code; anything but a DacnetError is thrown.
   */
  async offer(
    committee: FuzzCommittee,
    member: number,
    headerBytes: Uint8Array,
    shards: ShardWithProof[],
    shardCount = shards.length,
  ): Promise<StoreOutcome> {
    const service = this.#services.get(committee)![member]!
    try {
      const header = decodeHeader(headerBytes)
      const intake = await service.admit(this.sequencer, header, headerBytes, shardCount)
      const signature = await intakeAll(intake, shards)
      this.#signed.add(this.#key(committee, member, headerBytes))
      return { signature }
    } catch (err) {
      if (!isDacnetError(err)) throw err
      return { code: err.code, message: err.message }
    }
  }

  /**
   * True if a store of these header bytes left anything in the member's store — shards, a blob record or an
   * attestation — although the member never signed one: what a refused store must not do.
   */
  async leftOver(committee: FuzzCommittee, member: number, headerBytes: Uint8Array): Promise<boolean> {
    if (this.#signed.has(this.#key(committee, member, headerBytes))) return false
    const store = this.#storeOf(committee, member)
    const blobId = blobIdOf(headerBytes)
    return (
      (await store.hasBlob(blobId)) ||
      (await store.getAttestation(blobId)) !== undefined ||
      (await store.listShardIndices(blobId)).length > 0
    )
  }

  /** Drops every store and opens empty ones. */
  async recycle(): Promise<void> {
    await this.#closeStores()
    await this.#openStores()
  }

  async close(): Promise<void> {
    await this.#closeStores()
  }

  #key(committee: FuzzCommittee, member: number, headerBytes: Uint8Array): string {
    return `${committee.spec.networkId}/${member}/${blobIdOf(headerBytes).toString()}`
  }

  #storeOf(committee: FuzzCommittee, member: number): ShardStore {
    let offset = 0
    for (const c of this.committees) {
      if (c === committee) return this.#stores[offset + member]!
      offset += c.members.length
    }
    throw new Error(`unknown committee ${committee.spec.name}`)
  }

  async #openStores(): Promise<void> {
    this.#dir = await mkdtemp(join(storeParent(), 'dacnet-encoding-fuzz-'))
    for (const committee of this.committees) {
      const services: MemberService[] = []
      for (const member of committee.members) {
        const store = await ShardStore.open(
          join(this.#dir, `${committee.spec.networkId}-${member.index}`),
          STORE_OPTIONS,
        )
        this.#stores.push(store)
        services.push(
          new MemberService({
            store,
            committees: committee.source,
            secretKey: member.secretKey,
            publicKey: member.publicKey,
            maxBlobSize: FUZZ_MAX_BLOB_SIZE,
            logger: silentLogger,
          }),
        )
      }
      this.#services.set(committee, services)
    }
  }

  async #closeStores(): Promise<void> {
    const stores = this.#stores.splice(0)
    this.#services.clear()
    this.#signed.clear()
    await Promise.all(stores.map((s) => s.close()))
    if (this.#dir !== '') await rm(this.#dir, { recursive: true, force: true })
    this.#dir = ''
  }
}
