import { readFileSync } from 'node:fs'

/** The package version, for `dacnet_build_info` and `GET /v1/status`. Read once, at load. */
export const DACNET_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version
