/**
 * One socket write per batch of encrypted bytes, not one per piece.
 *
 * Noise hands the TCP connection each message as a list of pieces (its 2-byte length, the ciphertext of the
 * yamux header, of the data, the cipher's final block, the tag), and @libp2p/tcp writes every piece to the socket
 * on its own. On an idle socket each of those writes is a system call and a TCP segment, so a 12-byte yamux
 * window update cost four or five segments, and every one wakes the peer to read a fragment it cannot use yet
 * (noise's length decoder then throws and catches at the end of each). Here the connection's pieces are written
 * with the socket corked, so Node.js sends them as one `writev`. The bytes and their order are unchanged: this is
 * invisible on the wire.
 */
import type { Socket } from 'node:net'
import type { ConnectionEncrypter, MessageStream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

interface SocketConnection {
  socket?: unknown
  sendData?: (data: Uint8ArrayList) => { sentBytes: number; canSendMore: boolean }
}

function isSocket(value: unknown): value is Socket {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Socket).cork === 'function' &&
    typeof (value as Socket).uncork === 'function' &&
    typeof (value as Socket).write === 'function'
  )
}

/**
 * Makes a TCP connection write each batch of pieces it is handed as one socket write. Connections of other
 * transports (WebSockets) and shapes this does not know are returned untouched.
 */
export function batchSocketWrites<T extends MessageStream>(connection: T): T {
  const conn = connection as unknown as SocketConnection
  const { socket } = conn
  if (!isSocket(socket) || typeof conn.sendData !== 'function') return connection
  conn.sendData = (data: Uint8ArrayList) => {
    // Every piece goes to the socket (it buffers what the kernel does not take yet, as it would have on the
    // next call); canSendMore tells the layers above to wait for 'drain' before handing over more.
    let canSendMore = true
    socket.cork()
    try {
      for (const piece of data) canSendMore = socket.write(piece)
    } finally {
      socket.uncork()
    }
    return { sentBytes: data.byteLength, canSendMore }
  }
  return connection
}

/** `encrypter` securing connections whose socket writes are batched (batchSocketWrites). */
export function withBatchedWrites<C, E extends ConnectionEncrypter>(
  factory: (components: C) => E,
): (components: C) => E {
  return (components) => {
    const encrypter = factory(components)
    return {
      ...encrypter,
      protocol: encrypter.protocol,
      secureInbound: (connection, options) => encrypter.secureInbound(batchSocketWrites(connection), options),
      secureOutbound: (connection, options) => encrypter.secureOutbound(batchSocketWrites(connection), options),
    } as E
  }
}
