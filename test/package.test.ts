import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The package as a user gets it: `npm pack` (which builds dist/), the tarball installed into a fresh project,
 * imported there under node_modules (where Node strips no types), type-checked by a TypeScript consumer with the
 * settings `tsc --init` writes, and its `dacnet` command run — on Node 24, and on an old system Node if there is one.
 */

const root = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
const fixtures = fileURLToPath(new URL('./package/', import.meta.url))

/** A TypeScript consumer: an SDK user's four lines, and the roles and checks it names. */
const CONSUMER_TS = `import { type Certificate, type Committee, createClient, type DacnetClient, Disperser, LightClient, verifyCertificate } from 'dacnet'

export async function roundTrip(blob: Uint8Array): Promise<boolean> {
  await using client: DacnetClient = await createClient({ chain: 'chain.json', key: 'sequencer.key' })
  const { certificate } = await client.disperser.disperse(blob)
  const { available } = await client.lightClient.sample(certificate)
  const back = await client.retriever.retrieve(certificate)
  return available && back.kind === 'ok' && back.data.length === blob.length
}

export function check(certificate: Certificate, committee: Committee): bigint {
  return verifyCertificate(certificate, committee).signedStake
}

export function roles(client: DacnetClient): [Disperser, LightClient] {
  return [client.disperser, client.lightClient]
}
`

/** The same with two mistakes a user can make: the compiler must name both, in the user's file. */
const MISUSE_TS = `import { createClient } from 'dacnet'

const client = await createClient({ committeeFile: 'committee.json' })
const connected: string = client.connected
export { connected }
`

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command to its end; npm's own variables from the outer `npm exec` are left out. */
function run(file: string, args: string[], opts: { cwd: string; timeout?: number }): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')))
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env, timeout: opts.timeout ?? 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }),
    )
  })
}

/** A Node.js older than the package supports, if this machine has one (the system Node beside the pinned 24). */
async function oldNode(): Promise<{ path: string; version: string } | undefined> {
  const dirs = [...new Set([...(process.env['PATH'] ?? '').split(':'), '/usr/bin', '/usr/local/bin'])]
  for (const dir of dirs) {
    const path = join(dir, 'node')
    if (!dir || !existsSync(path)) continue
    const { code, stdout } = await run(path, ['--version'], { cwd: root, timeout: 10_000 })
    const major = Number(/^v(\d+)\./.exec(stdout.trim())?.[1])
    if (code === 0 && major < 22) return { path, version: stdout.trim() }
  }
  return undefined
}

/**
 * Hard-links the repository's installed packages that production needs (package-lock.json entries not marked
 * dev) into `into`. False if linking failed (another disk): the install then downloads everything. npm rewrites
 * only files it creates (its cache of the tree, .package-lock.json, is not linked), so the links stay read-only.
 */
async function linkProductionPackages(into: string): Promise<boolean> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8'))
  const byScope = new Map<string, string[]>()
  for (const [path, entry] of Object.entries<{ dev?: boolean }>(lock.packages)) {
    const name = path.slice('node_modules/'.length)
    if (!path.startsWith('node_modules/') || name.includes('/node_modules/') || entry.dev) continue
    if (!existsSync(join(root, path))) continue
    const scope = name.startsWith('@') ? name.split('/')[0]! : ''
    byScope.set(scope, [...(byScope.get(scope) ?? []), join(root, path)])
  }
  for (const [scope, paths] of byScope) {
    await mkdir(join(into, scope), { recursive: true })
    const linked = await run('cp', ['-al', ...paths, join(into, scope)], { cwd: root })
    if (linked.code !== 0) return false
  }
  return true
}

let work: string
let consumer: string
let tarball: string
let packed: string[]
let setupMs: Record<string, number>

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dacnet-package-'))
  consumer = join(work, 'consumer')
  setupMs = {}
  let t = performance.now()
  // `npm pack` runs the prepack script: the build.
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, timeout: 120_000 })
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`)
  const [report] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')))
  tarball = join(work, report.filename)
  packed = report.files.map((f: { path: string }) => f.path)
  setupMs['pack'] = performance.now() - t

  t = performance.now()
  await mkdir(consumer)
  await writeFile(
    join(consumer, 'package.json'),
    JSON.stringify({
      name: 'dacnet-consumer',
      private: true,
      type: 'module',
      devDependencies: { '@types/node': pkg.devDependencies['@types/node'] },
    }),
  )
  await cp(join(fixtures, 'use.mjs'), join(consumer, 'use.mjs'))
  await writeFile(join(consumer, 'consumer.ts'), CONSUMER_TS)
  // Start from hard links of the repository's production packages (same disk: no bytes copied), so that npm only
  // checks them against what dacnet declares and fetches anything missing: an install without the download.
  if (!(await linkProductionPackages(join(consumer, 'node_modules')))) {
    await rm(join(consumer, 'node_modules'), { recursive: true, force: true })
  }
  const install = await run(
    'npm',
    ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    { cwd: consumer, timeout: 180_000 },
  )
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.stderr}`)
  setupMs['install'] = performance.now() - t
  // The build (tsc) is the larger part of the set-up; the install links what the repository has.
  console.log(
    `npm pack (with the build) ${Math.round(setupMs['pack'])} ms, install ${Math.round(setupMs['install'])} ms`,
  )
}, 300_000)

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

describe('the packed package', () => {
  it('ships the built code, its declarations and run-time assets, the licence; no tests', () => {
    for (const file of [
      'package.json',
      'LICENSE',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/bin.js',
      'dist/cli/main.js',
      'dist/cli-bundle/main.mjs',
      'dist/erasure/worker.js',
      'dist/erasure/rs/rs.wasm',
      'dist/p2p/pb/dacnet.js',
      'dist/chain/artifacts/DacnetRegistry.js',
      'dist/browser/index.d.ts',
      'dist/bundle/dacnet.js',
      'dist/bundle/web/app.js',
      'dist/bundle/web/worker.js',
      'dist/web/index.html',
    ]) {
      expect(packed, file).toContain(file)
    }
    expect(packed.filter((path) => path.startsWith('test/') || path.startsWith('node_modules/'))).toEqual([])
    expect(pkg.scripts.prepack).toMatch(/npm run build/)
    expect(pkg.bin.dacnet).toBe('./dist/cli/bin.js')
    expect(pkg.exports['.']).toMatchObject({ types: './dist/index.d.ts', import: './dist/index.js' })
  })

  it('imports every module it depends on from its dependencies, never from development-only packages', async () => {
    const dist = join(consumer, 'node_modules', 'dacnet', 'dist')
    const declared = new Set(Object.keys(pkg.dependencies))
    const builtins = new Set(builtinModules)
    const undeclared = new Map<string, string>()
    for (const entry of await readdir(dist, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !/\.m?js$/.test(entry.name)) continue
      const text = await readFile(join(entry.parentPath, entry.name), 'utf8')
      // The command bundle (.mjs) holds its dependencies' code, comments and all: only its own imports count there,
      // the statements the bundler writes at the start of a line and the requires it writes for CommonJS modules.
      const imports = entry.name.endsWith('.mjs')
        ? /(?:^import\s[^;]*?\bfrom\s*|^import\s*|\bimport\(\s*|\b__require\(\s*)(['"])([^'"./][^'"]*)\1/gm
        : /(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)(['"])([^'"./][^'"]*)\1/gm
      for (const [, , specifier] of text.matchAll(imports)) {
        const name = specifier!.startsWith('@')
          ? specifier!.split('/').slice(0, 2).join('/')
          : specifier!.split('/')[0]!
        if (specifier!.startsWith('node:') || builtins.has(name) || declared.has(name) || name === pkg.name) continue
        undeclared.set(name, join(entry.parentPath, entry.name).slice(dist.length + 1))
      }
    }
    for (const [name, reason] of Object.entries({ ...DEVELOPMENT_ONLY, ...OPTIONAL_IN_BUNDLE })) {
      expect(reason).not.toBe('')
      undeclared.delete(name)
    }
    expect(Object.fromEntries(undeclared)).toEqual({})
  })
})

/**
 * Packages the built code names that are development dependencies on purpose, each with what loads it: none of
 * them is loaded by the library or by a `dacnet` command run the default way.
 */
const DEVELOPMENT_ONLY: Record<string, string> = {
  rolldown:
    'browser/build.js builds the browser bundle in memory (scripts/build-browser.ts; `dacnet web` without --bundle), ' +
    'and cli/cli-bundle.js the command bundle (scripts/build.ts; the devnet from a checkout)',
}

/**
 * Packages the command bundle asks for that are no dependency at all, each with why: optional add-ons a bundled
 * dependency tries to load and does without (as it does from its own place in node_modules).
 */
const OPTIONAL_IN_BUNDLE: Record<string, string> = {
  bufferutil: "ws's optional native masking, loaded in a try (libp2p's WebSockets transport)",
  'utf-8-validate': "ws's optional native UTF-8 check, loaded in a try (libp2p's WebSockets transport)",
}

describe('installed into a fresh project', () => {
  it('imports under node_modules on Node 24, with the erasure worker and WebAssembly working from dist/', async () => {
    const result = await run(process.execPath, ['use.mjs'], { cwd: consumer })
    expect(result.code, result.stderr).toBe(0)
    const out = JSON.parse(result.stdout)
    expect(out.resolved).toBe(join(consumer, 'node_modules', 'dacnet', 'dist', 'index.js'))
    expect(out.types).toEqual({
      Disperser: 'function',
      LightClient: 'function',
      Retriever: 'function',
      verifyCertificate: 'function',
      createClient: 'function',
    })
    expect(out.verified).toBe(true)
    expect(out.roundTrip).toBe(true)
    expect(out.invalidOptions).toBe('NODE_INVALID_OPTIONS')
    expect(out.browser).toEqual({
      resolved: join(consumer, 'node_modules', 'dacnet', 'dist', 'bundle', 'dacnet.js'),
      types: {
        LightClient: 'function',
        verifyCertificate: 'function',
        decodeCertificate: 'function',
        createBrowserLibp2p: 'function',
      },
    })
  })

  it('type-checks a TypeScript consumer with the settings `tsc --init` writes', async () => {
    const init = await run(process.execPath, [tsc, '--init'], { cwd: consumer })
    expect(init.code, init.stdout).toBe(0)
    const checked = await run(process.execPath, [tsc, '-p', '.', '--noEmit'], { cwd: consumer })
    expect(checked.stdout + checked.stderr).toBe('')
    expect(checked.code).toBe(0)
  })

  it('type-checks it with every declaration file checked too (skipLibCheck off, Node types on)', async () => {
    const strict = join(consumer, 'strict')
    await mkdir(strict)
    await writeFile(
      join(strict, 'tsconfig.json'),
      JSON.stringify({
        extends: '../tsconfig.json',
        compilerOptions: { types: ['node'], skipLibCheck: false, noEmit: true },
        files: ['../consumer.ts'],
      }),
    )
    const checked = await run(process.execPath, [tsc, '-p', 'strict'], { cwd: consumer })
    expect(checked.stdout + checked.stderr).toBe('')
    expect(checked.code).toBe(0)
  })

  it('refuses a consumer that misuses the API, naming both mistakes in its own file', async () => {
    const misuse = join(consumer, 'misuse')
    await mkdir(misuse)
    await writeFile(join(misuse, 'misuse.ts'), MISUSE_TS)
    await writeFile(
      join(misuse, 'tsconfig.json'),
      JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true }, files: ['misuse.ts'] }),
    )
    const checked = await run(process.execPath, [tsc, '-p', 'misuse'], { cwd: consumer })
    await rm(misuse, { recursive: true })
    expect(checked.code).not.toBe(0)
    expect(checked.stdout).toMatch(
      /misuse\.ts\(3,\d+\): error TS\d+: .*'committeeFile' does not exist in type 'ClientOptions'/,
    )
    expect(checked.stdout).toMatch(
      /misuse\.ts\(4,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/,
    )
    expect(checked.stdout).not.toContain('node_modules')
  })

  it("runs the installed `dacnet` on Node 24: help, and the package's version", async () => {
    const bin = join(consumer, 'node_modules', '.bin', 'dacnet')
    const help = await run(process.execPath, [bin, '--help'], { cwd: consumer })
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain('Usage: dacnet')
    expect(help.stdout).toContain('disperse')
    const version = await run(process.execPath, [bin, '--version'], { cwd: consumer })
    expect(version.stdout.trim()).toBe(pkg.version)
  })

  it('runs the installed `dacnet` from the bundle it ships, not from dist/ one module at a time', async () => {
    // A module hook that reports, at exit, which of the package's files the process loaded.
    const hook = `data:text/javascript,${encodeURIComponent(`
      import { registerHooks } from 'node:module'
      const urls = []
      registerHooks({ load(url, context, next) { urls.push(url); return next(url, context) } })
      process.on('exit', () => process.stderr.write(JSON.stringify(urls.filter((u) => u.includes('/dacnet/dist/')))))`)}`
    const bin = join(consumer, 'node_modules', 'dacnet', 'dist', 'cli', 'bin.js')
    const help = await run(process.execPath, ['--import', hook, bin, '--help'], { cwd: consumer })
    expect(help.code, help.stderr).toBe(0)
    const loaded = (JSON.parse(help.stderr) as string[]).map((url) => url.slice(url.indexOf('/dacnet/dist/') + 13))
    expect(loaded).toContain('cli-bundle/main.mjs')
    expect(loaded.filter((path) => !path.startsWith('cli-bundle/'))).toEqual(['cli/bin.js'])
  })

  it('says in one line which Node.js the installed `dacnet` needs when an old one runs it', async (ctx) => {
    const old = await oldNode()
    if (!old) {
      ctx.skip()
      return
    }
    const result = await run(old.path, [join(consumer, 'node_modules', '.bin', 'dacnet'), '--help'], { cwd: consumer })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(`dacnet needs Node.js ${pkg.engines.node}, found ${old.version}\n`)
  })
})
