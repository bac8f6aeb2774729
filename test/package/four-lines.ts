/**
 * An SDK user's program, run as its own process by client.test.ts: the four lines of docs/SDK.md against a
 * committee file, with nothing else to end the process — it must end by itself once `stop()` has released
 * everything. Prints what it saw as one JSON line.
 *
 *   node test/package/four-lines.ts COMMITTEE_FILE SEQUENCER_KEY_FILE
 */
import { createClient } from '../../src/index.ts'

const [committee, key] = process.argv.slice(2)
const blob = new TextEncoder().encode('a rollup block, four lines from certified\n'.repeat(3000))

const client = await createClient({ committee: committee!, key: key!, localNetwork: true })
const { certificate } = await client.disperser.disperse(blob)
const { available, confidence } = await client.lightClient.sample(certificate)
const back = await client.retriever.retrieve(certificate)
await client.stop()

const intact = back.kind === 'ok' && Buffer.from(back.data).equals(Buffer.from(blob))
console.log(
  JSON.stringify({
    connected: client.connected,
    signedStake: `${certificate.signedStake}`,
    available,
    confidence,
    intact,
  }),
)
