import { sizeText } from '../size.ts'
import { CONFIG_KEYS, type ConfigKey, envName, flagName } from './keys.ts'
import {
  DEFAULT_CHAIN_CONFIRMATIONS,
  DEFAULT_CHAIN_MAX_HEAD_STALL_SECONDS,
  DEFAULT_CHAIN_POLL_INTERVAL_SECONDS,
  defaultConfig,
} from './types.ts'

/** The markers around the generated key table in docs/OPERATORS.md. */
export const KEY_TABLE_BEGIN =
  '<!-- config-keys:begin (generated from src/cli/config/keys.ts by src/cli/config/doc.ts) -->'
export const KEY_TABLE_END = '<!-- config-keys:end -->'

/**
 * The Markdown table of every config key with its flag, environment variable and default, as docs/OPERATORS.md
 * carries it between the markers (a test keeps the two equal; `node src/cli/config/doc.ts` prints it).
 */
export function configKeyTable(): string {
  const rows = CONFIG_KEYS.map(
    (key) =>
      `| \`${key.path}\` | \`${flagName(key.path)}\` | \`${envName(key.path)}\` | ${defaultText(key)} | ${key.summary} |`,
  )
  return [
    '| key | flag (`dacnet node`) | environment variable | default | meaning |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n')
}

function defaultText(key: ConfigKey): string {
  if (key.path === 'chain.confirmations') return String(DEFAULT_CHAIN_CONFIRMATIONS)
  if (key.path === 'chain.pollIntervalSeconds') return String(DEFAULT_CHAIN_POLL_INTERVAL_SECONDS)
  if (key.path === 'chain.maxHeadStallSeconds') return String(DEFAULT_CHAIN_MAX_HEAD_STALL_SECONDS)
  if (key.path.startsWith('chain.')) return 'none'
  let value: unknown = defaultConfig()
  for (const part of key.path.split('.')) value = (value as Record<string, unknown>)[part]
  if (key.kind === 'size') return `\`${sizeText(value as number)}\``
  if (value === null) return 'none'
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => `\`${v}\``).join(', ')
  if (typeof value === 'string') return `\`${value}\``
  return String(value)
}

if (import.meta.main) process.stdout.write(`${KEY_TABLE_BEGIN}\n${configKeyTable()}\n${KEY_TABLE_END}\n`)
