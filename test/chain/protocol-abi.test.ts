import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { abiListing, LISTED } from './abi-listing.ts'

describe('PROTOCOL.md §4.7', () => {
  it('lists every external function of the registry and the verifier as the compiled contracts have them', () => {
    const protocol = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8')
    for (const [name, abi] of Object.entries(LISTED)) {
      expect(protocol, name).toContain(`\`${name}\`:\n\n\`\`\`\n${abiListing(abi)}\n\`\`\`\n`)
    }
  })
})
