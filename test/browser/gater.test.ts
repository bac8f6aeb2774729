import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBrowserLibp2p } from '../../src/browser/libp2p.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'

/**
 * The browser light client's dial rule on an https page: `/wss` to public hosts only, as libp2p's own browser
 * default has it. Its gater replaces that default, so a member registered with a LAN or loopback address would
 * otherwise have every visitor's browser dial into the visitor's own network.
 */
describe('the browser libp2p node on an https page', () => {
  let node: DacnetLibp2p
  let peer: string
  beforeAll(async () => {
    node = await createBrowserLibp2p({ insecureWebSockets: false })
    peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  })
  afterAll(() => node?.stop())

  const blocked = async (address: string) => {
    const err = await node.dial(multiaddr(`${address}/p2p/${peer}`), { signal: AbortSignal.timeout(2_000) }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    return err?.name === 'DialDeniedError'
  }

  it('refuses plain /ws and private or loopback /wss before dialling', async () => {
    expect(await blocked('/ip4/1.1.1.1/tcp/443/ws')).toBe(true)
    expect(await blocked('/ip4/127.0.0.1/tcp/443/wss')).toBe(true)
    expect(await blocked('/ip4/192.168.1.20/tcp/443/wss')).toBe(true)
    expect(await blocked('/ip6/::1/tcp/443/wss')).toBe(true)
    // A public /wss address passes the gater (the dial itself then fails: nothing listens there).
    expect(await blocked('/ip4/1.1.1.1/tcp/443/wss')).toBe(false)
  })
})
