/**
 * dacnet's public API: what a sequencer, a light client or an operator tool needs. Everything else is internal.
 */

export * from './attest/index.ts'
export * from './committee/index.ts'
export * from './erasure/index.ts'
export { DacnetError, isDacnetError, type SerializedError } from './errors.ts'
