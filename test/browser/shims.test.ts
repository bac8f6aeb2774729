/**
 * The web-standard stand-ins the bundle uses for Node built-ins give what Node gives: SHA-256, uniform random
 * integers, an abortable timer; and the shared hex code writes what Buffer writes.
 */
import * as node from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createHash, hash, randomBytes, randomInt } from '../../src/browser/node-crypto.ts'
import { setTimeout as sleep } from '../../src/browser/node-timers-promises.ts'
import { fromHex, toHex } from '../../src/committee/hex.ts'
import { prng, randomData } from '../erasure/helpers.ts'

describe('browser stand-ins for Node built-ins', () => {
  it('hash SHA-256 as node:crypto does, in one piece or in parts', () => {
    for (const size of [0, 1, 55, 56, 64, 65, 3136, 100_000]) {
      const data = randomData(size, prng(size))
      const expected = new Uint8Array(node.createHash('sha256').update(data).digest())
      expect(hash('sha256', data, 'buffer')).toEqual(expected)
      const cut = size >> 1
      expect(createHash('sha256').update(data.subarray(0, cut)).update(data.subarray(cut)).digest()).toEqual(expected)
      // The 'binary' (latin1) string form, one character a byte, is node:crypto's own string.
      const binary = node.createHash('sha256').update(data).digest('binary')
      expect(hash('sha256', data, 'binary')).toBe(binary)
      expect(createHash('sha256').update(data).digest('binary')).toBe(binary)
    }
    expect(() => createHash('md5')).toThrow(/SHA-256 only/)
  })

  it('draw uniform integers in range, and refuse ranges node:crypto refuses', () => {
    const counts = new Array(6).fill(0)
    for (let i = 0; i < 60_000; i++) counts[randomInt(6)]++
    // Each face 10,000 ± 5 standard deviations (about 456).
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(460)
    for (let i = 0; i < 1000; i++) {
      const v = randomInt(-5, 5)
      expect(v).toBeGreaterThanOrEqual(-5)
      expect(v).toBeLessThan(5)
    }
    expect(() => randomInt(0)).toThrow(RangeError)
    expect(() => randomInt(5, 5)).toThrow(RangeError)
    expect(randomBytes(70_000)).toHaveLength(70_000)
  })

  it('write and read hex as Buffer does (the plain-JavaScript hex both builds share)', () => {
    for (const size of [0, 1, 48, 96, 1000]) {
      const bytes = randomData(size, prng(size + 3))
      const text = Buffer.from(bytes).toString('hex')
      expect(toHex(bytes)).toBe(`0x${text}`)
      expect(fromHex(`0x${text}`)).toEqual(bytes)
      expect(fromHex(text.toUpperCase(), size)).toEqual(bytes)
    }
    for (const bad of ['abc', 'zz00', '0x0g', 12, undefined]) expect(fromHex(bad)).toBeUndefined()
    expect(fromHex('0x0011', 3)).toBeUndefined()
  })

  it('sleep, or reject at once with an AbortError when aborted', async () => {
    expect(await sleep(5, 'done')).toBe('done')
    const controller = new AbortController()
    const pending = sleep(10_000, 'late', { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
    await expect(sleep(1, 'x', { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' })
  })
})
