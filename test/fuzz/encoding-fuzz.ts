/**
 * Runs fuzzed malicious shard sets (encoding-cases.ts) through the two places where they are decided, and counts
 * what happened:
 *
 *  - every member's store, through its MemberService over LevelDB (encoding-members.ts): a store holding a shard
 *    that fails its proof is never signed, a sound one always is, and each refusal carries the expected code;
 *  - every retriever: each choice of k or more valid rows, salted with rows that do not verify, goes through
 *    `decodeBlob` (one per case in the ErasurePool's worker, as the Retriever decodes). Each gives the commitment's
 *    verdict — the exact bytes, or BadEncoding with the same reason — and BadEncoding evidence verifies, also for a
 *    third party that has only its serialized bytes. A holder's absurd header is refused by the retriever's header
 *    rule (`headerMisfit`, after decoding it and looking its epoch up), and the decoder refuses it typed.
 *
 * Anything else — a violated property, an exception that is not a DacnetError where one is allowed, a case slower
 * than the hang limit — fails the run with fast-check's seed and path, which replay exactly that case (as the
 * decoder fuzzer in fuzz.ts reports them), and the case's plan.
 */
import fc from 'fast-check'
import { verifyAttestation } from '../../src/attest/attestation.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { checkBadEncoding, type DecodeResult, decodeBlob, verifyBadEncoding } from '../../src/erasure/decode.ts'
import { decodeEvidence, encodeEvidence } from '../../src/erasure/evidence.ts'
import { type BlobHeader, decodeHeader, encodeHeader } from '../../src/erasure/header.ts'
import { bytesEqual } from '../../src/erasure/merkle.ts'
import { ErasurePool } from '../../src/erasure/pool.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { isDacnetError } from '../../src/errors.ts'
import { headerMisfit } from '../../src/node/header-fit.ts'
import { buildCase, CATEGORIES, type CasePlan, type Category, casePlans, type MaliciousCase } from './encoding-cases.ts'
import { FUZZ_MAX_BLOB_SIZE, type FuzzCommittee, FuzzMembers, type StoreOutcome } from './encoding-members.ts'
import type { Commitment, Verdict } from './encoding-oracle.ts'

/** A case slower than this is a hang: the largest takes tens of milliseconds alone, a few hundred under load. */
export const DEFAULT_CASE_HANG_MS = 10_000
/** Cases between two recyclings of the members' stores (a signed store writes its rows). */
export const DEFAULT_RECYCLE_EVERY = 500

export interface EncodingFuzzOptions {
  runs: number
  seed: number
  /** fast-check's path of a failing case, to replay it. */
  path?: string | undefined
  hangMs?: number
  recycleEvery?: number
  /** Called every `progressEvery` cases. */
  onProgress?: (done: number, summary: EncodingFuzzSummary) => void
  progressEvery?: number
  /**
   * Stand-ins for the member's store and the decoder, to show that the harness catches a member that signs too much
   * or a decoder that lies. Absent: the real ones.
   */
  offer?: (
    members: FuzzMembers,
    c: FuzzCommittee,
    member: number,
    headerBytes: Uint8Array,
    shards: ShardWithProof[],
    count: number,
  ) => Promise<StoreOutcome>
  decode?: (header: BlobHeader, shards: Iterable<ShardWithProof>) => DecodeResult
}

/** What one category of cases came to. */
export interface CategoryFigures {
  cases: number
  /** Stores offered to members. */
  stores: number
  signed: number
  refused: number
  /** Stores holding at least one shard that fails its proof, size or index. */
  storesWithFailingShards: number
  /** Shards offered that fail their proof, size or index. */
  failingShards: number
  /** Signatures given for a store holding a failing shard: the figure that must be 0. */
  signedFailing: number
  /** Sound stores refused: must be 0 too. */
  refusedSound: number
  /** Refused stores after which the member holds nothing of the blob (no shard, record or attestation). */
  refusedClean: number
  /** Refusals by code. */
  codes: Record<string, number>
  /** Holders' headers the retriever refused (absurd ones). */
  headersRefused: number
  /** Decodes of k or more valid rows. */
  retrievals: number
  decoded: number
  badEncoding: number
  reasons: Record<string, number>
  /** Commitments whose retrievals all reached the same verdict, and all commitments retrieved. */
  agreed: number
  commitments: number
  evidenceVerified: number
  /** Evidence re-checked from its serialized bytes alone. */
  thirdPartyVerified: number
  wrongBytes: number
}

export interface EncodingFuzzSummary {
  seed: number
  cases: number
  byCategory: Record<Category, CategoryFigures>
  crashes: number
  hangs: number
  slowestMs: number
  seconds: number
  /** What fast-check printed for the first failing case, with its seed, path and plan. */
  failure?: string
}

function emptyFigures(): CategoryFigures {
  return {
    cases: 0,
    stores: 0,
    signed: 0,
    refused: 0,
    storesWithFailingShards: 0,
    failingShards: 0,
    signedFailing: 0,
    refusedSound: 0,
    refusedClean: 0,
    codes: {},
    headersRefused: 0,
    retrievals: 0,
    decoded: 0,
    badEncoding: 0,
    reasons: {},
    agreed: 0,
    commitments: 0,
    evidenceVerified: 0,
    thirdPartyVerified: 0,
    wrongBytes: 0,
  }
}

/** A broken property: the case fails with this message. */
class Violation extends Error {}

const count = (table: Record<string, number>, key: string) => {
  table[key] = (table[key] ?? 0) + 1
}

/** Runs `opts.runs` fuzzed cases and counts what happened; stops at the first violation, crash or hang. */
export async function fuzzEncoding(opts: EncodingFuzzOptions): Promise<EncodingFuzzSummary> {
  const started = performance.now()
  const hangMs = opts.hangMs ?? DEFAULT_CASE_HANG_MS
  const recycleEvery = opts.recycleEvery ?? DEFAULT_RECYCLE_EVERY
  const summary: EncodingFuzzSummary = {
    seed: opts.seed,
    cases: 0,
    byCategory: Object.fromEntries(CATEGORIES.map((c) => [c, emptyFigures()])) as Record<Category, CategoryFigures>,
    crashes: 0,
    hangs: 0,
    slowestMs: 0,
    seconds: 0,
  }
  const members = await FuzzMembers.open()
  const pool = new ErasurePool({ size: 1 })
  const env: CheckEnv = {
    members,
    pool,
    offer: opts.offer ?? ((m, c, member, headerBytes, shards, n) => m.offer(c, member, headerBytes, shards, n)),
    decode: opts.decode ?? decodeBlob,
  }
  let sinceRecycle = 0
  try {
    const property = fc.asyncProperty(casePlans(), async (plan) => {
      if (sinceRecycle >= recycleEvery) {
        await members.recycle()
        sinceRecycle = 0
      }
      sinceRecycle++
      summary.cases++
      const figures = summary.byCategory[plan.category]
      figures.cases++
      const caseStarted = performance.now()
      try {
        await checkCase(buildCase(plan, members.committees), figures, env)
      } catch (err) {
        if (!(err instanceof Violation)) summary.crashes++
        throw err
      } finally {
        const ms = performance.now() - caseStarted
        summary.slowestMs = Math.max(summary.slowestMs, ms)
        if (ms > hangMs) {
          summary.hangs++
          // biome-ignore lint/correctness/noUnsafeFinally: a hang fails the case whatever it returned
          throw new Error(`one case took ${ms.toFixed(0)} ms (limit ${hangMs} ms)`)
        }
        if (opts.onProgress && summary.cases % (opts.progressEvery ?? 1000) === 0)
          opts.onProgress(summary.cases, summary)
      }
    })
    const details = await fc.check(property, {
      numRuns: opts.runs,
      seed: opts.seed,
      ...(opts.path !== undefined ? { path: opts.path } : {}),
      endOnFailure: true,
    })
    if (details.failed) {
      const plan = details.counterexample?.[0] as CasePlan | undefined
      summary.failure = [
        `encoding: ${String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance ?? 'failed')}`,
        `  replay with seed ${details.seed} path "${details.counterexamplePath ?? ''}"`,
        `  plan ${JSON.stringify(plan)}`,
      ].join('\n')
    }
  } finally {
    await pool.close()
    await members.close()
  }
  summary.seconds = Math.round((performance.now() - started) / 100) / 10
  return summary
}

interface CheckEnv {
  members: FuzzMembers
  pool: ErasurePool
  offer: NonNullable<EncodingFuzzOptions['offer']>
  decode: NonNullable<EncodingFuzzOptions['decode']>
}

/** Every property of one case; throws a Violation for the first one broken. */
async function checkCase(c: MaliciousCase, figures: CategoryFigures, env: CheckEnv): Promise<void> {
  await checkStores(c, figures, env)
  if (c.headerRefusal !== undefined) await checkRefusedHeader(c, figures, env)
  const commitments: [Commitment, Verdict, Commitment | undefined][] = []
  if (c.main) commitments.push([c.main.commitment, c.main.verdict, c.rival?.commitment])
  if (c.rival) commitments.push([c.rival.commitment, c.rival.verdict, c.main?.commitment])
  for (const [commitment, verdict, other] of commitments) {
    const retrievals = c.retrievals.filter(
      (r) => (r.of === 'main' ? c.main?.commitment : c.rival?.commitment) === commitment,
    )
    const seen = new Set<string>()
    for (const r of retrievals) {
      figures.retrievals++
      const result = r.viaPool
        ? await env.pool.decodeBlob(commitment.header, r.offered)
        : env.decode(commitment.header, r.offered)
      seen.add(checkVerdict(commitment, verdict, result, r.valid, other, figures))
    }
    figures.commitments++
    if (seen.size !== 1) throw new Violation(`retrievers disagree: ${[...seen].join(' / ')}`)
    figures.agreed++
  }
}

async function checkStores(c: MaliciousCase, figures: CategoryFigures, env: CheckEnv): Promise<void> {
  let attestationChecked = false
  for (const d of c.deliveries) {
    figures.stores++
    const failing = d.expect.sign ? 0 : d.expect.failing
    if (failing > 0) figures.storesWithFailingShards++
    figures.failingShards += failing
    const outcome = await env.offer(env.members, c.committee, d.member, d.headerBytes, d.shards, d.shardCount)
    if ('signature' in outcome) {
      figures.signed++
      if (!d.expect.sign) {
        if (failing > 0) figures.signedFailing++
        throw new Violation(
          `member ${d.member} signed a store it must refuse with ${d.expect.code} (${failing} of its ${d.shards.length} shards fail their proof, size or index)`,
        )
      }
      if (!attestationChecked) {
        // One signature per case is checked against the committee (a pairing each; the rest are the same code path).
        const header = decodeHeader(d.headerBytes)
        const context = attestationContextOf(header)
        const { publicKey } = c.committee.members[d.member]!
        verifyAttestation({ ...context, publicKey, signature: outcome.signature }, c.committee.committee, context)
        attestationChecked = true
      }
      continue
    }
    figures.refused++
    count(figures.codes, outcome.code)
    if (d.expect.sign) {
      figures.refusedSound++
      throw new Violation(`member ${d.member} refused a sound store: ${outcome.code} ${outcome.message}`)
    }
    if (outcome.code !== d.expect.code) {
      throw new Violation(
        `member ${d.member} refused with ${outcome.code} (${outcome.message}), expected ${d.expect.code}`,
      )
    }
    if (await env.members.leftOver(c.committee, d.member, d.headerBytes)) {
      throw new Violation(
        `member ${d.member} refused a store with ${outcome.code} but kept shards or an attestation of it`,
      )
    }
    figures.refusedClean++
  }
}

/**
 * A holder sends the absurd header for a bare blob id: the retriever decodes it (the retrieve protocol's client),
 * looks its epoch up and applies `headerMisfit`, as `Retriever` does before it reads a shard. It must refuse, typed.
 * A header object with the same fields is refused by the decoder too.
 */
async function checkRefusedHeader(c: MaliciousCase, figures: CategoryFigures, env: CheckEnv): Promise<void> {
  const refusal = await typedRefusal(async () => {
    const header = decodeHeader(c.headerBytes)
    const committee = await c.committee.source.getCommittee(header.epoch)
    const misfit = headerMisfit(header, committee, FUZZ_MAX_BLOB_SIZE)
    if (misfit !== undefined) throw new MisfitRefusal(misfit)
  })
  if (refusal === undefined)
    throw new Violation(`the retriever's header rule takes a header members refuse with ${c.headerRefusal}`)
  figures.headersRefused++
  if (c.headerBytes.length !== 65 || !c.headerRefusal!.startsWith('ERASURE_')) return
  const view = new DataView(c.headerBytes.buffer, c.headerBytes.byteOffset, c.headerBytes.byteLength)
  const object: BlobHeader = {
    version: view.getUint8(0),
    networkId: view.getUint32(1),
    epoch: Number(view.getBigUint64(5)),
    dataSize: Number(view.getBigUint64(13)),
    k: view.getUint32(21),
    n: view.getUint32(25),
    shardSize: view.getUint32(29),
    root: c.headerBytes.slice(33),
  }
  const shards = c.deliveries.flatMap((d) => d.shards)
  const code = await typedRefusal(async () => env.decode(object, shards))
  if (code === undefined) throw new Violation(`decodeBlob took a header object that ${c.headerRefusal} refuses`)
}

/** headerMisfit answers with a reason, not an error; the retriever turns it into NODE_HEADER_MISMATCH. */
class MisfitRefusal extends Error {
  readonly code = 'NODE_HEADER_MISMATCH'
}

/** The code `fn` was refused with, or undefined if it was not; anything but a typed refusal is thrown on. */
async function typedRefusal(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn()
    return undefined
  } catch (err) {
    if (err instanceof MisfitRefusal) return err.code
    if (isDacnetError(err)) return err.code
    throw err
  }
}

/** Checks one decode against the commitment's verdict; returns the verdict's name for the agreement check. */
function checkVerdict(
  commitment: Commitment,
  verdict: Verdict,
  result: DecodeResult,
  valid: number,
  other: Commitment | undefined,
  figures: CategoryFigures,
): string {
  const { header, headerBytes } = commitment
  if (valid < header.k) throw new Error(`a retrieval was built with ${valid} valid rows, fewer than k = ${header.k}`)
  if (result.kind === 'ok') {
    figures.decoded++
    if (verdict.kind !== 'ok')
      throw new Violation(
        `a retriever decoded ${result.data.length} bytes where the rows are BadEncoding (${verdict.reason})`,
      )
    if (!bytesEqual(result.data, verdict.data)) {
      figures.wrongBytes++
      throw new Violation(
        `a retriever returned wrong bytes (${result.data.length} bytes, expected ${verdict.data.length})`,
      )
    }
    return 'ok'
  }
  figures.badEncoding++
  count(figures.reasons, result.reason)
  if (verdict.kind === 'ok')
    throw new Violation(`a retriever reached BadEncoding (${result.reason}) on a codeword of a blob`)
  if (result.reason !== verdict.reason)
    throw new Violation(`BadEncoding for ${result.reason}, the rows show ${verdict.reason}`)
  const { shards } = result.evidence
  if (shards.length !== header.k || new Set(shards.map((s) => s.index)).size !== header.k) {
    throw new Violation(`evidence holds ${shards.length} shards, not k = ${header.k} distinct ones`)
  }
  if (!verifyBadEncoding(header, result.evidence)) throw new Violation('the BadEncoding evidence does not verify')
  figures.evidenceVerified++
  // A third party has only the serialized evidence: the header comes out of it, and its check must agree.
  const parsed = decodeEvidence(encodeEvidence(header, result.evidence))
  if (!bytesEqual(encodeHeader(parsed.header), headerBytes))
    throw new Violation('the serialized evidence names another header')
  const reason = checkBadEncoding(parsed.header, parsed.evidence)
  if (reason !== verdict.reason)
    throw new Violation(`a third party reads ${reason} from the evidence, not ${verdict.reason}`)
  figures.thirdPartyVerified++
  // Evidence against one commitment proves nothing about another one of the same blob.
  if (other && !bytesEqual(other.headerBytes, headerBytes) && verifyBadEncoding(other.header, result.evidence)) {
    throw new Violation("evidence against one commitment verifies against the equivocating sequencer's other header")
  }
  return `bad-encoding ${result.reason}`
}
