import type { ComponentLogger, Logger } from '@libp2p/interface'

/**
 * libp2p's component loggers, when nobody is listening. libp2p makes loggers as it goes, several for every stream
 * (the muxer's stream, protocol negotiation, the handler's scope), and each of its loggers is three `debug`
 * instances whose set-up (namespace matching, a colour, an isatty call) costs ~21 µs here: on the order of 100 µs a
 * stream, for lines that print nothing unless the DEBUG environment variable names them. Without DEBUG, dacnet's
 * nodes hand libp2p one shared disabled logger instead; with DEBUG set, libp2p keeps its own, so
 * `DEBUG=libp2p:*` works as libp2p documents it.
 */
const silent: Logger = Object.assign(() => {}, {
  error: () => {},
  trace: () => {},
  enabled: false,
  newScope: (): Logger => silent,
})

const silentComponents: ComponentLogger = { forComponent: () => silent }

/** The `logger` option for createLibp2p: a disabled logger unless DEBUG is set (then libp2p's default, undefined). */
export function libp2pLogger(env: Readonly<Record<string, string | undefined>>): ComponentLogger | undefined {
  return env.DEBUG === undefined || env.DEBUG === '' ? silentComponents : undefined
}
