/**
 * The light client in a real browser: Debian's chromium driven by playwright-core opens the page of `dacnet web`
 * against committee nodes on loopback; the page's worker verifies the certificate with the noble BLS backend and
 * samples the holders over libp2p WebSockets. Skipped only when no chromium is installed (.ci/run installs it).
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Certificate, certificateBlobId } from '../../src/attest/certificate.ts'
import { certificateToJson } from '../../src/attest/certificate-codec.ts'
import { type BrowserDevnet, startBrowserDevnet } from './devnet.ts'

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const haveChromium = existsSync(CHROMIUM)
const SCREENSHOT = new URL('../../docs/images/web-light-client.png', import.meta.url).pathname
/** Stakes of the five members, total 100: the last three hold 45. */
const STAKES = [30n, 25n, 20n, 15n, 10n]
const TARGET = 1 - 1e-6

if (!haveChromium)
  console.warn(`test/browser/web.test.ts skipped: no chromium at ${CHROMIUM} (apt-get install chromium)`)

describe.skipIf(!haveChromium)('the light client page in chromium', () => {
  let devnet: BrowserDevnet
  let browser: Browser
  let certificate: Certificate

  beforeAll(async () => {
    const { chromium } = await import('playwright-core')
    ;[devnet, browser] = await Promise.all([
      startBrowserDevnet(STAKES),
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
    ])
    certificate = await devnet.disperse(256 * 1024, 14)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await devnet?.stop()
  })

  async function verdict(page: Page): Promise<{ status: string; confidence: number | undefined }> {
    // The page marks its status on <body data-status>: wait until it is a verdict.
    await page.waitForSelector('body:not([data-status="idle"]):not([data-status="checking"])[data-status]', {
      timeout: 40_000,
    })
    const status = (await page.textContent('[data-testid=status]')) ?? ''
    const value = await page.getAttribute('[data-testid=confidence]', 'data-value')
    return { status, confidence: value === null ? undefined : Number(value) }
  }

  it('reaches the target confidence for a certified blob, from ?blob=<id>', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    await page.goto(`${devnet.web.url}?blob=${certificateBlobId(certificate)}`)
    const { status, confidence } = await verdict(page)
    expect(await page.textContent('#stage')).toContain('reached')
    expect(status).toBe('available')
    expect(confidence).toBeGreaterThanOrEqual(TARGET)
    // Every sample drawn is in the grid, under its holder, and came back with a valid proof.
    expect(await page.locator('#grid .cell.failed').count()).toBe(0)
    expect(await page.locator('#grid .cell.ok').count()).toBeGreaterThan(0)
    expect(errors).toEqual([])
    await mkdir(new URL('.', `file://${SCREENSHOT}`).pathname, { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    await page.close()
  }, 45_000)

  it('says invalid-certificate for a pasted certificate with a flipped signature byte', async () => {
    const page = await browser.newPage()
    await page.goto(devnet.web.url)
    const json = certificateToJson(certificate)
    // A byte of the signature flipped: still a point on the curve or not, it no longer verifies.
    const signature = json.signature.slice(0, -2) + (json.signature.endsWith('00') ? '01' : '00')
    await page.fill('#certificate', JSON.stringify({ ...json, signature }))
    await page.click('#check')
    const { status, confidence } = await verdict(page)
    expect(status).toBe('invalid-certificate')
    expect(confidence).toBe(0)
    expect(await page.textContent('#stage')).toMatch(/ATTEST_(INVALID|MALFORMED)_SIGNATURE/)
    await page.close()
  }, 45_000)

  it('says unavailable once holders of more than the tolerated share are stopped', async () => {
    // k of n shards must be retrievable; the three smallest members hold about 45% of the shards. Stopping the
    // two largest (55%) leaves about 45%, still above k/n (about a third); stopping the four largest leaves 10%.
    for (const member of devnet.members.slice(0, 4)) await member.node.stop()
    const page = await browser.newPage()
    await page.goto(`${devnet.web.url}?blob=${certificateBlobId(certificate)}`)
    const { status, confidence } = await verdict(page)
    expect(status).toBe('unavailable')
    expect(confidence).toBeLessThan(TARGET)
    expect(await page.locator('#grid .cell.failed').count()).toBeGreaterThan(0)
    await page.close()
  }, 60_000)
})
