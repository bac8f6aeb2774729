/**
 * The page's light client, in a Web Worker: libp2p over WebSockets, certificate checks with the noble BLS backend
 * and Merkle proofs with SHA-256 in JS all run here, so the page stays responsive however long a check takes. One
 * libp2p node and one LightClient serve every check of the page (connections and the hedge's memory carry over).
 */
import { type Certificate, certificateBlobId, certificateSigners } from '../attest/certificate.ts'
import { certificateFromJson, decodeCertificate } from '../attest/certificate-codec.ts'
import { fetchFromServer, HttpCommitteeSource } from '../browser/committees.ts'
import { createBrowserLibp2p } from '../browser/libp2p.ts'
import { fromHex } from '../committee/hex.ts'
import { blobIdEquals, parseBlobId } from '../erasure/blob-id.ts'
import { DacnetError } from '../errors.ts'
import { NodeErrorCode } from '../node/errors.ts'
import { DEFAULT_TARGET_CONFIDENCE, LightClient } from '../node/light-client.ts'
import type { CheckEvent, CheckRequest, CheckSummary } from './messages.ts'
import { CERTIFICATE_PATH, COMMITTEES_PATH } from './paths.ts'

interface WorkerScope {
  postMessage(message: CheckEvent): void
  addEventListener(type: 'message', listener: (event: { data: CheckRequest }) => void): void
}

const scope = globalThis as unknown as WorkerScope
const post = (event: CheckEvent) => scope.postMessage(event)

let client: Promise<{ light: LightClient }> | undefined
/** Checks run one after another. */
let queue: Promise<void> = Promise.resolve()

/** The light client, made on first use: committees from the server, libp2p over WebSockets. */
function lightClient(): Promise<{ light: LightClient }> {
  client ??= (async () => {
    const committees = new HttpCommitteeSource(COMMITTEES_PATH)
    const libp2p = await createBrowserLibp2p()
    return { light: new LightClient({ libp2p, committees }) }
  })()
  client.catch(() => {
    client = undefined
  })
  return client
}

async function fetchJson(path: string, what: string): Promise<unknown> {
  let answer: { response: Response; text: string }
  try {
    answer = await fetchFromServer(path, what)
  } catch (err) {
    throw new FetchError((err as Error).message)
  }
  const { response, text } = answer
  if (!response.ok) {
    throw new FetchError(`${what} could not be fetched: HTTP ${response.status}${text ? ` ${text.slice(0, 200)}` : ''}`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new FetchError(`${what} could not be fetched: the server's answer is not JSON`)
  }
}

class FetchError extends Error {}

/** A pasted certificate: JSON, or hex of the binary layout. */
function parsePasted(text: string): Certificate {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) return certificateFromJson(trimmed)
  const bytes = fromHex(trimmed.startsWith('0x') ? trimmed : `0x${trimmed}`)
  if (!bytes) return certificateFromJson(trimmed) // neither: let the JSON parser say what is wrong
  return decodeCertificate(bytes)
}

async function check(request: CheckRequest): Promise<void> {
  const started = performance.now()
  const target = request.confidence ?? DEFAULT_TARGET_CONFIDENCE
  post({ type: 'stage', text: 'starting libp2p' })
  const { light } = await lightClient()
  let certificate: Certificate
  let verified: Awaited<ReturnType<LightClient['verify']>>
  const verifyStarted = performance.now()
  try {
    if (request.certificate !== undefined) certificate = parsePasted(request.certificate)
    else {
      post({ type: 'stage', text: `fetching the certificate of ${request.blob}` })
      certificate = certificateFromJson(
        await fetchJson(`${CERTIFICATE_PATH}${encodeURIComponent(request.blob ?? '')}`, 'the certificate'),
      )
    }
    // The server, or a file in its certificate directory, may answer another blob's certificate: it verifies, and
    // the check would then sample that blob and call the one asked for available.
    if (
      request.certificate === undefined &&
      !blobIdEquals(certificateBlobId(certificate), parseBlobId(request.blob ?? ''))
    ) {
      throw new DacnetError(
        NodeErrorCode.CERTIFICATE_OF_ANOTHER_BLOB,
        `the server answered the certificate of ${certificateBlobId(certificate)}, not of ${request.blob}`,
      )
    }
    post({ type: 'stage', text: 'verifying the certificate' })
    verified = await light.verify(certificate)
  } catch (err) {
    if (err instanceof FetchError || !(err instanceof DacnetError)) throw err
    post({ type: 'invalid-certificate', code: err.code, message: err.message, ms: performance.now() - started })
    return
  }
  const verifyMs = performance.now() - verifyStarted
  const { committee } = verified
  const cert = verified.certificate
  post({
    type: 'certificate',
    certificate: {
      blobId: certificateBlobId(cert).toString(),
      epoch: cert.epoch,
      dataSize: cert.header.dataSize,
      k: cert.header.k,
      n: cert.header.n,
      signers: certificateSigners(cert).length,
      members: committee.size,
      signedStake: cert.signedStake.toString(),
      totalStake: committee.totalStake.toString(),
    },
    members: committee.members.map((m, index) => ({ index, peerId: m.peerId, stake: m.stake.toString() })),
  })
  post({ type: 'stage', text: 'sampling' })
  const result = await light.sample(cert, {
    confidence: target,
    onOutcome: (outcome) => post({ type: 'outcome', outcome }),
  })
  const summary: CheckSummary = {
    confidence: result.confidence,
    target,
    samples: result.samples,
    successes: result.successes,
    distinctSuccesses: result.distinctSuccesses,
    bytes: result.bytes,
    verifyMs,
    sampleMs: result.ms,
    totalMs: performance.now() - started,
  }
  post({ type: 'done', status: result.available ? 'available' : 'unavailable', summary })
}

scope.addEventListener('message', (event) => {
  if (event.data?.type !== 'check') return
  queue = queue.then(() =>
    check(event.data).catch((err: unknown) => {
      const code = err instanceof DacnetError ? err.code : 'ERROR'
      post({ type: 'error', code, message: err instanceof Error ? err.message : String(err) })
    }),
  )
})
