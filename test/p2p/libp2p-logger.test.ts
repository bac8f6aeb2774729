import { generateKeyPair } from '@libp2p/crypto/keys'
import { describe, expect, it } from 'vitest'
import { libp2pLogger } from '../../src/p2p/libp2p-logger.ts'
import { createDacnetLibp2p } from '../../src/p2p/node.ts'

describe("libp2p's loggers", () => {
  it('are one shared disabled logger, at every scope, without DEBUG', () => {
    for (const env of [{}, { DEBUG: '' }]) {
      const components = libp2pLogger(env)!
      const log = components.forComponent('libp2p:yamux')
      expect(log.enabled).toBe(false)
      expect(log.newScope('stream').newScope('select')).toBe(log)
      expect(components.forComponent('libp2p:kad-dht')).toBe(log)
      expect(() => {
        log('a line %s', 'nobody reads')
        log.error('an error %e', new Error('x'))
        log.trace('a trace')
      }).not.toThrow()
    }
  })

  it("are libp2p's own when DEBUG is set, so DEBUG=libp2p:* prints as libp2p documents", () => {
    expect(libp2pLogger({ DEBUG: 'libp2p:*' })).toBeUndefined()
  })

  it('are what a dacnet libp2p node runs with', async () => {
    const saved = process.env.DEBUG
    delete process.env.DEBUG
    try {
      const node = await createDacnetLibp2p({ privateKey: await generateKeyPair('Ed25519'), dhtMode: 'client' })
      expect(node.logger.forComponent('libp2p:x')).toBe(libp2pLogger({})!.forComponent('y'))
      process.env.DEBUG = 'libp2p:*'
      const debugged = await createDacnetLibp2p({ privateKey: await generateKeyPair('Ed25519'), dhtMode: 'client' })
      expect(debugged.logger.forComponent('libp2p:x')).not.toBe(libp2pLogger({})!.forComponent('y'))
    } finally {
      if (saved === undefined) delete process.env.DEBUG
      else process.env.DEBUG = saved
    }
  })
})
