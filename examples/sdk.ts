/**
 * The dacnet SDK in one file: disperse a blob, sample it like a light client, and retrieve it.
 *
 * Against a local devnet (in another terminal: `npm start -- --out /tmp/devnet`):
 *
 *   node examples/sdk.ts /tmp/devnet/chain.json /tmp/devnet/client.key
 *
 * The first argument is the devnet's chain.json (committees from the registry on its chain) or a committee
 * file (`--no-chain` devnets). The key's peer id must be a registered sequencer (the devnet registers client.key).
 */
import { readFileSync } from 'node:fs'
// In a project that depends on dacnet (npm install dacnet): import { createClient } from 'dacnet'
import { createClient } from '../src/index.ts'

const [committeesFile, keyFile] = process.argv.slice(2)
if (!committeesFile || !keyFile) {
  process.stderr.write('usage: node examples/sdk.ts CHAIN_JSON|COMMITTEE_FILE SEQUENCER_KEY_FILE\n')
  process.exit(2)
}

// Committees come from the chain (the registry's events, checked against its records) or from a committee file;
// either way every key is checked (proofs of possession) on load. The client dials the committee in force.
const isChain = 'registry' in JSON.parse(readFileSync(committeesFile, 'utf8'))
await using client = await createClient({
  ...(isChain ? { chain: committeesFile } : { committee: committeesFile }),
  key: keyFile,
  localNetwork: true, // the devnet runs every node on 127.0.0.1
})

const blob = new TextEncoder().encode('a rollup block, made available by dacnet\n'.repeat(5000))

// 1. Disperse: every member gets its shards; the certificate comes once q of the stake has signed.
const { certificate, blob: info } = await client.disperser.disperse(blob, {
  onReceipt: (r) => console.log(`member ${r.member} attested: ${r.signedStake} of ${r.totalStake} stake`),
})
console.log(`certified ${info.blobId} (${certificate.signedStake} of the stake signed)`)

// 2. Sample: random shards with proofs, checked against the commitment, until 1 - 1e-6 confidence.
const sampled = await client.lightClient.sample(certificate)
console.log(`available: ${sampled.available}, confidence 1 - ${(1 - sampled.confidence).toExponential(1)}`)

// 3. Retrieve from any k shards; a badly encoded blob would give a provable BadEncoding verdict instead.
const back = await client.retriever.retrieve(certificate)
const intact = back.kind === 'ok' && Buffer.from(back.data).equals(Buffer.from(blob))
console.log(`retrieved ${back.blobId}: ${intact ? 'intact' : back.kind}`)
process.exitCode = intact && sampled.available ? 0 : 1
// Leaving the module's scope stops the client (`await using`): its libp2p node, its worker pool, its chain source.
