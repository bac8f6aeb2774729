import { multiaddr } from '@multiformats/multiaddr'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { invalidAllowedHost } from '../../api/hosts.ts'
import { parseSize } from '../size.ts'
import { CONFIG_KEYS, CONFIG_SECTIONS, type ConfigKey, NULLABLE_SECTIONS, SIZE_FORMAT } from './keys.ts'
import { CONFIG_VERSION } from './types.ts'

/** Documentation, allowed in every object of the file (JSON has no comments). */
export const COMMENT_KEY = '$comment'

/**
 * The JSON schema of the config file, made from the key table: every section and key optional (each has a
 * default), unknown fields refused (a typo must not fall back to a default silently), `$comment` anywhere.
 */
export function configSchema(): Record<string, unknown> {
  const object = (properties: Record<string, unknown>) => ({
    type: 'object',
    properties: { [COMMENT_KEY]: {}, ...properties },
    additionalProperties: false,
  })
  const root: Record<string, unknown> = { version: { const: CONFIG_VERSION } }
  for (const section of CONFIG_SECTIONS) {
    const keys = CONFIG_KEYS.filter((k) => k.path.startsWith(`${section}.`))
    const schema = object(Object.fromEntries(keys.map((k) => [k.path.slice(section.length + 1), k.schema])))
    root[section] = NULLABLE_SECTIONS.includes(section)
      ? // Present as an object only with the keys that name where to read from.
        { ...schema, type: ['object', 'null'], required: requiredIn(section) }
      : schema
  }
  for (const key of CONFIG_KEYS.filter((k) => !k.path.includes('.'))) root[key.path] = key.schema
  return { ...object(root), required: ['version'] }
}

/** Keys a nullable section needs when it is there: a chain is named by its RPC endpoint and registry. */
function requiredIn(section: string): string[] {
  return section === 'chain' ? ['rpcUrl', 'registry'] : []
}

let compiled: ValidateFunction | undefined

function validator(): ValidateFunction {
  if (compiled) return compiled
  const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true })
  ajv.addFormat('multiaddr', {
    type: 'string',
    validate: (value: string) => {
      try {
        multiaddr(value)
        return true
      } catch {
        return false
      }
    },
  })
  ajv.addFormat('allowed-host', {
    type: 'string',
    validate: (value: string) => invalidAllowedHost(value) === undefined,
  })
  for (const format of sizeFormats()) {
    const [, min, max] = format.split(':').map(Number) as [number, number, number]
    ajv.addFormat(format, {
      type: 'string',
      validate: (value: string) => {
        try {
          const bytes = parseSize(value)
          return bytes >= min && bytes <= max
        } catch {
          return false
        }
      },
    })
  }
  compiled = ajv.compile(configSchema())
  return compiled
}

/** The size formats the keys use (`size:min:max`, see keys.ts), each once. */
function sizeFormats(): Set<string> {
  const formats = new Set<string>()
  for (const key of CONFIG_KEYS) {
    const format = key.schema['format']
    if (typeof format === 'string' && format.startsWith(`${SIZE_FORMAT}:`)) formats.add(format)
  }
  return formats
}

/** Where a config value is wrong: the key path as the file spells it (`network.listen[0]`), and why. */
export interface ConfigProblem {
  field: string
  /** The key the field belongs to; undefined for a section or the root. */
  key: ConfigKey | undefined
  /** Index of the list entry at fault, if the field is one. */
  entry: number | undefined
  /** The field is absent but required. */
  missing: boolean
  why: string
}

/** Validates a whole config object against the schema; the first problem found, or undefined. */
export function checkConfigSchema(json: unknown): ConfigProblem | undefined {
  const validate = validator()
  if (validate(json)) return undefined
  return problemOf(validate.errors?.[0], json)
}

function problemOf(error: ErrorObject | undefined, json: unknown): ConfigProblem {
  if (error === undefined)
    return { field: '', key: undefined, entry: undefined, missing: false, why: 'is not a valid config' }
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
  if (error.keyword === 'additionalProperties') {
    const name = (error.params as { additionalProperty: string }).additionalProperty
    return {
      field: join([...segments, name]),
      key: undefined,
      entry: undefined,
      missing: false,
      why: 'is not a known field (check its spelling)',
    }
  }
  if (error.keyword === 'required') {
    const name = (error.params as { missingProperty: string }).missingProperty
    const field = join([...segments, name])
    return {
      field,
      key: CONFIG_KEYS.find((k) => k.path === field),
      entry: undefined,
      missing: true,
      why: `is required when the ${segments.join('.')} section is set`,
    }
  }
  const keyPath = segments.filter((s) => !/^\d+$/.test(s)).join('.')
  const key = CONFIG_KEYS.find((k) => k.path === keyPath)
  const index = segments.at(-1)
  if (key && index !== undefined && /^\d+$/.test(index) && key.entryRule) {
    const entry = Number(index)
    return { field: `${keyPath}[${entry}]`, key, entry, missing: false, why: key.entryRule(valueAt(json, segments)) }
  }
  if (key) return { field: keyPath, key, entry: undefined, missing: false, why: key.rule }
  const section = keyPath === '' || (CONFIG_SECTIONS as readonly string[]).includes(keyPath)
  const why = !section
    ? (error.message ?? 'is not valid')
    : NULLABLE_SECTIONS.includes(keyPath)
      ? 'must be an object or null'
      : 'must be an object'
  return { field: keyPath, key: undefined, entry: undefined, missing: false, why }
}

function join(segments: string[]): string {
  return segments.join('.')
}

function valueAt(json: unknown, segments: string[]): unknown {
  let value = json
  for (const s of segments) value = (value as Record<string, unknown> | undefined)?.[s]
  return value
}
