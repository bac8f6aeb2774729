import { existsSync, readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { CONFIG_KEYS, envName } from '../../src/cli/config/keys.ts'
import { DEFAULT_NODE_ENV, DEFAULT_NODE_EXEC_ARGV } from '../../src/cli/devnet/children.ts'
import { buildProgram } from '../../src/cli/main.ts'

/**
 * The container files (Dockerfile, compose.yaml) cannot be built where no container runtime runs; these checks
 * keep them in step with the code: every DACNET_* variable they set exists, every dacnet command line they run
 * names options that exist, and every file the image build copies or runs is in the repository.
 */
const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const dockerfile = read('Dockerfile')
const compose = read('compose.yaml')
const NOT_CONFIG_KEYS = [
  'DACNET_HOME',
  'DACNET_COMMITTEE',
  'DACNET_CHAIN',
  'DACNET_KEYSTORE_PASSWORD',
  'DACNET_ETH_KEY',
]

/** The options a dacnet command line (`dacnet committee create --out X ...`) uses, and the command's. */
function optionsOf(line: string): { command: string; used: string[]; known: string[] } {
  const words = line.replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean)
  let command: Command = buildProgram()
  const path: string[] = []
  for (const word of words.slice(words.indexOf('dacnet') + 1)) {
    const sub = command.commands.find((c) => c.name() === word)
    if (!sub) break
    command = sub
    path.push(word)
  }
  const used = [...line.matchAll(/(?<=\s)--[a-z][a-z-]*/g)].map((m) => m[0])
  return { command: path.join(' '), used, known: command.options.map((o) => o.long!) }
}

describe('the container files', () => {
  it("run nodes with the devnet's Node.js options and environment", () => {
    for (const option of DEFAULT_NODE_EXEC_ARGV) expect(dockerfile).toContain(option)
    for (const [name, value] of Object.entries(DEFAULT_NODE_ENV)) expect(dockerfile).toContain(`${name}=${value}`)
  })

  it('set only DACNET_* variables that dacnet reads', () => {
    const known = new Set([...CONFIG_KEYS.map((k) => envName(k.path)), ...NOT_CONFIG_KEYS])
    const used = new Set([...`${dockerfile}\n${compose}`.matchAll(/DACNET_[A-Z_]+/g)].map((m) => m[0]))
    expect(used.size).toBeGreaterThan(3)
    for (const name of used) expect(known.has(name), name).toBe(true)
  })

  it('run dacnet command lines whose options exist', () => {
    const lines = compose
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .filter((line) => /(^|\s|\$\$\()dacnet [a-z]/.test(line) && !line.trim().startsWith('#'))
    expect(lines.length).toBeGreaterThanOrEqual(3)
    for (const line of lines) {
      const { command, used, known } = optionsOf(line.replace(/^.*?(?=dacnet )/, ' '))
      expect(command, line).not.toBe('')
      for (const option of used) expect(known, `${command} ${option}`).toContain(option)
    }
  })

  it('build from files that exist, with the scripts it runs, into the entry point it starts', () => {
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of sources!.split(' ')) expect(existsSync(new URL(source, root)), source).toBe(true)
    }
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> }
    expect(dockerfile).toContain('RUN npm run build')
    expect(pkg.scripts['build'], 'package.json scripts.build').toBeDefined()
    expect(dockerfile).toContain('/app/dist/cli/bin.js')
    expect(existsSync(new URL('src/cli/bin.ts', root))).toBe(true)
    // The home directory is the volume, and compose mounts the nodes' homes there.
    const home = /DACNET_HOME=(\S+)/.exec(dockerfile)?.[1]
    expect(dockerfile).toContain(`VOLUME ["${home}"]`)
    expect(compose).toContain(`node-1:${home}`)
  })
})
