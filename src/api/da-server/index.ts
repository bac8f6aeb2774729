export {
  COMMITMENT_PREFIX_SIZE,
  DA_SERVICE_COMMITMENT_TYPE,
  DACNET_DA_LAYER_BYTE,
  DACNET_PAYLOAD_VERSION,
  decodeCommitment,
  encodeCommitment,
  MAX_COMMITMENT_SIZE,
  parseCommitmentHex,
} from './commitment.ts'
export { DaServerErrorCode } from './errors.ts'
export {
  type DaServerOptions,
  DEFAULT_DA_SERVER_HOST,
  DEFAULT_DA_SERVER_PORT,
  DEFAULT_GET_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_GETS,
  DEFAULT_MAX_CONCURRENT_PUTS,
  DEFAULT_PUT_TIMEOUT_MS,
} from './options.ts'
export { type DaServer, startDaServer } from './server.ts'
