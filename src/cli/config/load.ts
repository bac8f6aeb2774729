import { dirname, resolve } from 'node:path'
import { readJsonFile } from '../files.ts'
import { parseConfig } from './parse.ts'
import type { NodeConfig } from './types.ts'

/** Largest config file read: a config is a few KiB; anything near this is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024

/** Reads and validates a node config; relative paths in it resolve against its own directory. */
export async function loadConfig(path: string, cwd: string): Promise<{ path: string; config: NodeConfig }> {
  const absolute = resolve(cwd, path)
  const json = await readJsonFile(absolute, 'config file', MAX_CONFIG_BYTES)
  return { path: absolute, config: parseConfig(json, dirname(absolute)) }
}
