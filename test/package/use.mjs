// A consumer of the installed package, in plain JavaScript: imports `dacnet` from node_modules, encodes a blob in
// the erasure worker pool (the worker and the WebAssembly load from dist/), certifies it with real BLS keys (the
// native blst addon), verifies the certificate, decodes the blob back, and prints what it saw as JSON.
import { fileURLToPath } from 'node:url'
import {
  Aggregator,
  blsKeyVerifier,
  Committee,
  createClient,
  createProofOfPossession,
  Disperser,
  ErasurePool,
  generateSecretKey,
  isDacnetError,
  LightClient,
  publicKeyOf,
  Retriever,
  signAttestation,
  verifyCertificate,
} from 'dacnet'

const peerIds = [
  '12D3KooWSSSAUhWCQMGT9sxaJ3HWr5aRT2y7pB7Th4RN3AmcByxU',
  '12D3KooWBSREu67BMgYkZsrsTJAvyUz9wZxieoB5dnWjcto15bNN',
  '12D3KooWSrorsUQ5RSNTFi3UfMjCmcTpCVycCVUET5SqrCZN6rwu',
  '12D3KooWFQHSC4jyLUutkDQXDbkoN7MZeVLW4sVxdQjtLPixPXeQ',
]
const keys = peerIds.map(() => generateSecretKey())
const committee = new Committee(
  {
    networkId: 7,
    epoch: 0,
    members: keys.map((sk, i) => ({
      peerId: peerIds[i],
      publicKey: publicKeyOf(sk),
      proofOfPossession: createProofOfPossession(sk),
      stake: 10n,
    })),
  },
  { verifier: blsKeyVerifier },
)

const blob = new TextEncoder().encode('a rollup block, from an installed dacnet\n'.repeat(2000))
const pool = new ErasurePool({ size: 1 })
let roundTrip = false
let verified = false
try {
  const { k, n } = committee.shapeFor(blob.length)
  const encoded = await pool.encodeBlob(blob, { networkId: 7, epoch: 0, k, n })
  const aggregator = new Aggregator({ committee, header: encoded.header })
  for (const sk of keys) await aggregator.add(signAttestation(sk, aggregator.context))
  // Every member signed: the certificate carries all of the stake.
  const certificate = aggregator.certificate()
  verified = verifyCertificate(certificate, committee).signedStake === 40n
  // Any k shards: here the last k, all of them parity, so decoding has to do the arithmetic.
  const shards = encoded.shards.map((data, index) => ({ index, data, proof: encoded.proofs[index] }))
  const decoded = await pool.decodeBlob(encoded.header, shards.slice(n - k))
  roundTrip = decoded.kind === 'ok' && Buffer.from(decoded.data).equals(Buffer.from(blob))
} finally {
  await pool.close()
}

let invalidOptions
try {
  await createClient({})
} catch (err) {
  invalidOptions = isDacnetError(err) ? err.code : String(err)
}

// The browser entry: the bundle (no Node built-ins in it), which Node can load too.
const browser = await import('dacnet/browser')
const browserTypes = Object.fromEntries(
  ['LightClient', 'verifyCertificate', 'decodeCertificate', 'createBrowserLibp2p'].map((name) => [
    name,
    typeof browser[name],
  ]),
)

const types = Object.fromEntries(
  Object.entries({ Disperser, LightClient, Retriever, verifyCertificate, createClient }).map(([name, value]) => [
    name,
    typeof value,
  ]),
)
console.log(
  JSON.stringify({
    resolved: fileURLToPath(import.meta.resolve('dacnet')),
    types,
    verified,
    roundTrip,
    invalidOptions,
    browser: { resolved: fileURLToPath(import.meta.resolve('dacnet/browser')), types: browserTypes },
  }),
)
