import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { type CliBundleLayout, keepLocation } from '../../src/cli/cli-bundle.ts'
import { nodeProgram } from '../../src/cli/devnet/node-bundle.ts'

const run = promisify(execFile)
const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

async function cacheDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dacnet-node-bundle-'))
  dirs.push(dir)
  return dir
}

describe('the program devnet nodes run', () => {
  it('is the CLI bundled from the sources, which runs, and is built once while the sources stay the same', async () => {
    const cache = await cacheDir()
    const first = await nodeProgram({}, { cacheDir: cache })
    expect(first.bundled).toBe(true)
    expect(first.builtMs).toBeGreaterThan(0)
    expect(first.path.startsWith(cache)).toBe(true)
    expect(first.path.endsWith('main.mjs')).toBe(true)
    // It finds package.json where main.ts does (the version it prints is read from there) and runs a command.
    const version = await run(process.execPath, [first.path, '--version'], { timeout: 30_000 })
    expect(version.stdout.trim()).toBe(pkg.version)
    const help = await run(process.execPath, [first.path, 'node', '--help'], { timeout: 30_000 })
    expect(help.stdout).toContain('--config')
    // Its source map leads back to the sources (for `--enable-source-maps`).
    const map = JSON.parse(await readFile(`${first.path}.map`, 'utf8')) as { sources: string[] }
    expect(map.sources.length).toBeGreaterThan(0)
    expect(map.sources.every((source) => /(^|\/)(src|node_modules)\/.+\.[cm]?[jt]s$/.test(source))).toBe(true)
    expect(map.sources.some((source) => /(^|\/)src\/cli\/commands\/node\.ts$/.test(source))).toBe(true)
    const again = await nodeProgram({}, { cacheDir: cache })
    expect(again).toEqual({ path: first.path, bundled: true })
    expect((await readdir(cache)).length).toBe(1)
  }, 120_000)

  it('keeps the newest bundles in its cache and removes older ones, and what killed builds left', async () => {
    const cache = await cacheDir()
    const old = ['a', 'b', 'c', 'd'].map((c) => join(cache, c.repeat(32)))
    for (const [i, dir] of old.entries()) {
      await mkdir(dir)
      await writeFile(join(dir, 'main.mjs'), '')
      const when = new Date(Date.now() - (i + 1) * 60_000)
      await utimes(dir, when, when)
    }
    // What a killed build left an hour ago goes; a build under way (a minute old) stays.
    const abandoned = join(cache, `${'e'.repeat(32)}.building-1-x`)
    const underWay = join(cache, `${'f'.repeat(32)}.building-2-y`)
    for (const [dir, age] of [
      [abandoned, 3_600_000],
      [underWay, 60_000],
    ] as const) {
      await fakeBundle(dir)
      const when = new Date(Date.now() - age)
      await utimes(dir, when, when)
    }
    const built = await nodeProgram({}, { cacheDir: cache, build: (out) => fakeBundle(out) })
    expect(built.bundled).toBe(true)
    // The one just built and the two most recent others.
    expect((await readdir(cache)).sort()).toEqual(
      [built.path.split('/').at(-2)!, 'a'.repeat(32), 'b'.repeat(32), `${'f'.repeat(32)}.building-2-y`].sort(),
    )
  })

  it('runs from the sources when DACNET_NODE_BUNDLE=0 says so, or when the bundle cannot be built', async () => {
    const cache = await cacheDir()
    const asked = await nodeProgram({ DACNET_NODE_BUNDLE: '0' }, { cacheDir: cache })
    expect(asked).toMatchObject({ bundled: false, reason: 'DACNET_NODE_BUNDLE=0' })
    expect(asked.path).toMatch(/src\/cli\/main\.ts$/)

    const failed = await nodeProgram(
      {},
      {
        cacheDir: cache,
        build: async (out) => {
          await fakeBundle(out)
          throw new Error('no bundler here')
        },
      },
    )
    expect(failed).toMatchObject({ bundled: false, buildError: 'no bundler here' })
    expect(failed.path).toBe(asked.path)
    // Nothing half-built is left to be taken for a bundle later.
    expect(await readdir(cache)).toEqual([])
  })
})

describe("a bundled module's location", () => {
  const layout: CliBundleLayout = {
    main: '/pkg/dist/cli/main.js',
    urlOf: (id) =>
      id.startsWith('/pkg/dist/') ? `new URL(${JSON.stringify(`..${id.slice(9)}`)}, import.meta.url).href` : undefined,
    sourcemap: false,
  }

  it("is its own file's for dacnet's modules, and main is false: only the bundle's entry runs the command", () => {
    const code = "const wasm = new URL('./rs.wasm', import.meta.url)\nif (import.meta.main) run()"
    expect(keepLocation(code, '/pkg/dist/erasure/rs/wasm.js', layout)).toBe(
      'const wasm = new URL(\'./rs.wasm\', new URL("../erasure/rs/wasm.js", import.meta.url).href)\nif (false) run()',
    )
  })

  it("leaves a dependency's code as it is, and refuses any other property in dacnet's", () => {
    const code = 'const here = import.meta.dirname'
    expect(keepLocation(code, '/pkg/node_modules/x/index.js', layout)).toBe(code)
    expect(() => keepLocation(code, '/pkg/dist/cli/x.js', layout)).toThrow(/import\.meta\.dirname/)
  })
})

async function fakeBundle(out: string): Promise<void> {
  await mkdir(out, { recursive: true })
  await writeFile(join(out, 'main.mjs'), '')
}
