/**
 * The browser bundle (src/browser/build.ts): no Node module in it, and the library entry, loaded as built, checks
 * blst-made committees and certificates with its noble BLS backend exactly as the Node code does — the same
 * verdicts and the same error codes.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Certificate } from '../../src/attest/certificate.ts'
import { certificateToJson, encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { type BrowserFile, writeBrowserBundle } from '../../src/browser/build.ts'
import { BROWSER_STREAM_READ_BUFFER_BYTES, BROWSER_STREAM_WINDOW_BYTES } from '../../src/browser/libp2p.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { parseCommitteeFile } from '../../src/committee/file.ts'
import { StaticCommitteeSource } from '../../src/committee/source.ts'
import { STREAM_READ_BUFFER_BYTES, STREAM_WINDOW_BYTES } from '../../src/p2p/node.ts'
import { startWebServer } from '../../src/web/server.ts'
import { hex, realCommittee, signedCertificate } from '../attest/helpers.ts'

type Bundle = typeof import('../../src/browser/index.ts')

let dir: string
let files: BrowserFile[]
let bundle: Bundle

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dacnet-bundle-'))
  files = await writeBrowserBundle(dir)
  bundle = (await import(pathToFileURL(join(dir, 'dacnet.js')).href)) as Bundle
}, 60_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'ACCEPTED'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

const STAKES = [40n, 25n, 15n, 10n, 6n, 4n]

describe('the browser bundle', () => {
  it('holds the library, the page and its worker, and imports no Node module', () => {
    const names = files.map((f) => f.fileName)
    expect(names).toEqual(expect.arrayContaining(['dacnet.js', 'web/app.js', 'web/worker.js']))
    for (const file of files) {
      // Every import is a file of the bundle itself.
      expect(
        file.imports.filter((id) => !names.includes(id)),
        file.fileName,
      ).toEqual([])
      expect(file.modules.filter((id) => id.startsWith('node:') || /\/@chainsafe\/blst\//.test(id))).toEqual([])
      // Nothing loads a Node built-in at run time either: no static, dynamic or require import of one.
      expect(file.code).not.toMatch(/(?:from|import|require)\s*\(?\s*["'](?:node:|fs["']|os["']|net["']|crypto["'])/)
    }
    // The Node-only modules are left out: blst, the Reed–Solomon WebAssembly, the shard store.
    const modules = files.flatMap((f) => f.modules)
    expect(modules.some((id) => id.endsWith('src/browser/bls.ts'))).toBe(true)
    expect(modules.some((id) => id.endsWith('src/attest/bls.ts'))).toBe(false)
    expect(modules.some((id) => id.includes('src/erasure/rs/'))).toBe(false)
    expect(modules.some((id) => id.includes('src/storage/'))).toBe(false)
  })

  it('is what `dacnet web --bundle DIR` serves', async () => {
    const committee = realCommittee(STAKES)
    const server = await startWebServer({
      committees: new StaticCommitteeSource({ networkId: committee.networkId, committees: [committee] }),
      bundleDir: dir,
    })
    try {
      for (const file of files) {
        const response = await fetch(new URL(file.fileName, server.url))
        expect(response.status, file.fileName).toBe(200)
        expect(await response.text(), file.fileName).toBe(file.code)
      }
    } finally {
      await server.close()
    }
  })

  it("uses the Node stack's muxer window and read buffer", () => {
    expect(BROWSER_STREAM_WINDOW_BYTES).toBe(STREAM_WINDOW_BYTES)
    expect(BROWSER_STREAM_READ_BUFFER_BYTES).toBe(STREAM_READ_BUFFER_BYTES)
  })

  it('accepts the certificates blst accepts, with the same signers and stake', () => {
    const committee = realCommittee(STAKES)
    // Everyone; nearly everyone (the cached sum minus non-signers); just over two thirds (the signers' sum).
    for (const signers of [
      [0, 1, 2, 3, 4, 5],
      [0, 1, 2, 3, 5],
      [0, 1, 3],
    ]) {
      const certificate = signedCertificate(committee, signers, { seed: `bundle-${signers.join()}` })
      const node = verifyCertificate(certificate, committee)
      const browser = bundle.verifyCertificate(bundle.decodeCertificate(encodeCertificate(certificate)), committee)
      expect(browser.signers).toEqual(node.signers)
      expect(browser.signedStake).toBe(node.signedStake)
      expect(browser.blobId.toString()).toBe(node.blobId.toString())
      const fromJson = bundle.certificateFromJson(JSON.stringify(certificateToJson(certificate)))
      expect(bundle.verifyCertificate(fromJson, committee).signers).toEqual(node.signers)
    }
  })

  it('refuses tampered certificates with the codes the Node code gives', () => {
    const committee = realCommittee(STAKES)
    const good = signedCertificate(committee, [0, 1, 2, 3], { seed: 'tamper' })
    const flipped = good.signature.slice()
    flipped[40]! ^= 0x01
    const other = signedCertificate(committee, [0, 1, 2, 3], { seed: 'another blob' })
    const tampered: [string, Certificate][] = [
      ['signature byte flipped', { ...good, signature: flipped }],
      ['signature of another blob', { ...good, signature: other.signature }],
      ['a signer dropped from the bitmap', { ...good, signers: Uint8Array.of(0b0111), signedStake: 80n }],
      ['stake raised', { ...good, signedStake: good.signedStake + 1n }],
      ['below the threshold', signedCertificate(committee, [2, 3, 4], { seed: 'few' })],
      ['infinity signature', { ...good, signature: Uint8Array.of(0xc0, ...new Uint8Array(95)) }],
    ]
    for (const [name, certificate] of tampered) {
      const expected = codeOf(() => verifyCertificate(certificate, committee))
      expect(expected, name).not.toBe('ACCEPTED')
      expect(
        codeOf(() => bundle.verifyCertificate(certificate, committee)),
        name,
      ).toBe(expected)
    }
  })

  it('checks committee files with the noble proofs of possession: good ones pass, a swapped proof fails', () => {
    const committee: Committee = realCommittee(STAKES)
    const file = {
      version: 1,
      networkId: committee.networkId,
      epochs: [
        {
          epoch: 0,
          members: committee.members.map((m) => ({
            peerId: m.peerId,
            publicKey: hex(m.publicKey),
            proofOfPossession: hex(m.proofOfPossession!),
            stake: m.stake.toString(),
          })),
        },
      ],
    }
    const source = bundle.committeesFromFile(JSON.stringify(file))
    expect(source.networkId).toBe(committee.networkId)
    const [a, b] = file.epochs[0]!.members
    const swapped = structuredClone(file)
    swapped.epochs[0]!.members[0]!.proofOfPossession = b!.proofOfPossession
    swapped.epochs[0]!.members[1]!.proofOfPossession = a!.proofOfPossession
    const expected = codeOf(() => parseCommitteeFile(JSON.stringify(swapped), { verifier: blsKeyVerifier }))
    expect(expected).toBe('COMMITTEE_INVALID_POP')
    expect(codeOf(() => bundle.committeesFromFile(JSON.stringify(swapped)))).toBe(expected)
  })
})
