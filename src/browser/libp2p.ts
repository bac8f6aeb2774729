/**
 * libp2p for a light client in a browser: it only dials, over WebSockets (`/ws` from an http page, `/wss` from an
 * https one: browsers refuse plain WebSockets on secure pages), with dacnet's noise, yamux, identify and ping: the
 * stack of createDacnetLibp2p for a client that only samples (`dhtMode: 'off'`, `gossip: false`). A page finds
 * every holder in the committee, so it needs neither the DHT nor certificate gossip, and without them it does not
 * identify the members it dials (it answers their identify): each would cost it a stream per holder. The result is a
 * DacnetLibp2p that LightClient takes as it is.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { isPrivateIp } from '@libp2p/utils'
import { webSockets } from '@libp2p/websockets'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { DacnetLibp2p, DacnetServices } from '../p2p/node.ts'

export interface BrowserLibp2pOptions {
  /** A peer key; default a fresh Ed25519 key per page load. */
  privateKey?: PrivateKey
  /**
   * Dial plain `/ws` addresses, and private and loopback ones (libp2p's browser default refuses both). Default:
   * true on an http page (a devnet on loopback or a private network), false on an https one, where only `/wss`
   * to public hosts is dialled.
   */
  insecureWebSockets?: boolean
}

/**
 * The muxer window and read buffer of p2p/node.ts (STREAM_WINDOW_BYTES, STREAM_READ_BUFFER_BYTES): that module
 * loads the TCP transport and Prometheus metrics, which a browser has no use for, so the values are repeated
 * here and test/browser/bundle.test.ts checks they stay equal.
 */
export const BROWSER_STREAM_WINDOW_BYTES = 2 * 1024 * 1024
export const BROWSER_STREAM_READ_BUFFER_BYTES = 4 * 1024 * 1024

/** True when the page runs in a secure context (https), where only `/wss` can be dialled. */
function secureContext(): boolean {
  return (
    (globalThis as { isSecureContext?: boolean }).isSecureContext === true &&
    (globalThis as { location?: { protocol?: string } }).location?.protocol === 'https:'
  )
}

/** A started libp2p node that dials committee members over WebSockets. */
export async function createBrowserLibp2p(opts: BrowserLibp2pOptions = {}): Promise<DacnetLibp2p> {
  const insecure = opts.insecureWebSockets ?? !secureContext()
  const libp2p = await createLibp2p<DacnetServices>({
    ...(opts.privateKey ? { privateKey: opts.privateKey } : {}),
    addresses: { listen: [] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [
      yamux({
        streamOptions: {
          maxStreamWindowSize: BROWSER_STREAM_WINDOW_BYTES,
          maxReadBufferLength: BROWSER_STREAM_READ_BUFFER_BYTES,
        },
      }),
    ],
    connectionGater: {
      // This gater replaces libp2p's browser default, so it keeps that default's refusal of private and loopback
      // addresses too: anyone who registers could otherwise have visitors' browsers dial into their own network.
      denyDialMultiaddr: (address: Multiaddr) =>
        !insecure && (!isSecureWebSocket(address) || isPrivateAddress(address)),
    },
    services: {
      identify: identify({ runOnConnectionOpen: false }),
      ping: ping(),
    },
  })
  return libp2p
}

/** An address whose IP is private, loopback or link-local (a DNS name is judged by nobody here). */
function isPrivateAddress(address: Multiaddr): boolean {
  for (const { name, value } of address.getComponents()) {
    if ((name === 'ip4' || name === 'ip6') && value !== undefined) return isPrivateIp(value) === true
  }
  return false
}

function isSecureWebSocket(address: Multiaddr): boolean {
  const names = address.getComponents().map((c) => c.name)
  return names.includes('wss') || (names.includes('tls') && names.includes('ws'))
}
