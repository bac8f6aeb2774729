/**
 * Builds the installable package into dist/: JavaScript with .d.ts declarations (and maps into src/) from
 * `tsc -p tsconfig.build.json`, plus every file the built code loads at run time that tsc does not emit (the
 * Reed–Solomon WebAssembly, the generated protobuf module, web assets). `npm run build` runs it, and so does
 * `npm pack` / `npm publish` (the `prepack` script). In development TypeScript still runs directly.
 *
 *   node scripts/build.ts
 */
import { spawnSync } from 'node:child_process'
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleCli, CLI_BUNDLE_DIR } from '../src/cli/cli-bundle.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = join(root, 'src')
const dist = join(root, 'dist')

/** A relative module specifier ending in .ts in emitted code: `from './x.ts'`, `import('./x.ts')`. */
const RELATIVE_TS = /(['"])(\.{1,2}\/[^'"\n]*?)\.ts\1/g
/** `new URL('./worker.ts', import.meta.url)`: tsc rewrites imports, not URLs of modules loaded by path. */
const MODULE_URL = /new URL\((['"])(\.{1,2}\/[^'"\n]*?)\.ts\1(\s*,\s*import\.meta\.url\))/g

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)))
}

/** Sources tsc compiles (it emits their .js and .d.ts); everything else under src is copied as it is. */
const compiled = (path: string) => path.endsWith('.ts') && !path.endsWith('.d.ts')

/**
 * Empties dist/, except dist/bundle: the browser bundle is its own build step (scripts/build-browser.ts, after
 * this one in `npm run build`), which replaces that folder itself.
 */
async function clean(): Promise<void> {
  const entries = await readdir(dist).catch(() => [])
  await Promise.all(
    entries.filter((name) => name !== 'bundle').map((name) => rm(join(dist, name), { recursive: true, force: true })),
  )
}

async function compile(): Promise<void> {
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  if (result.status !== 0) throw new Error(`tsc failed (exit ${result.status ?? result.signal})`)
}

/** Copies the run-time files tsc leaves out, keeping their place relative to the code that loads them. */
async function copyAssets(): Promise<number> {
  const assets = (await filesUnder(src)).filter((path) => !compiled(path))
  for (const path of assets) {
    await mkdir(dirname(join(dist, path)), { recursive: true })
    await copyFile(join(src, path), join(dist, path))
  }
  return assets.length
}

/**
 * Points what tsc leaves at .ts files to the emitted .js: module URLs in JavaScript (a worker's entry, a child
 * process's script), and relative specifiers in declarations (consumers' TypeScript resolves `.js` to `.d.ts`
 * under every setting, `.ts` only under some).
 */
async function rewriteSpecifiers(): Promise<void> {
  for (const path of await filesUnder(dist)) {
    const file = join(dist, path)
    if (path.endsWith('.d.ts')) {
      const text = await readFile(file, 'utf8')
      const fixed = text.replace(RELATIVE_TS, (_m, quote, stem) => `${quote}${stem}.js${quote}`)
      if (fixed !== text) await writeFile(file, fixed)
    } else if (path.endsWith('.js') && !path.endsWith('.map')) {
      const text = await readFile(file, 'utf8')
      const fixed = text.replace(MODULE_URL, (_m, quote, stem, rest) => `new URL(${quote}${stem}.js${quote}${rest}`)
      if (fixed !== text) await writeFile(file, fixed)
    }
  }
}

/** Refuses a dist/ in which built code would still load a .ts file: Node does not strip types in node_modules. */
async function checkNoTsReferences(): Promise<void> {
  const offenders: string[] = []
  for (const path of await filesUnder(dist)) {
    if (!path.endsWith('.js') && !path.endsWith('.d.ts')) continue
    const text = await readFile(join(dist, path), 'utf8')
    for (const match of text.matchAll(RELATIVE_TS)) offenders.push(`${path}: ${match[0]}`)
  }
  if (offenders.length > 0) throw new Error(`built files still name .ts modules:\n  ${offenders.join('\n  ')}`)
}

/**
 * The `dacnet` command bundled from dist/ into dist/cli-bundle/ (src/cli/cli-bundle.ts), which dist/cli/bin.js runs:
 * each of dacnet's modules keeps its place in dist/ (its `import.meta.url` is its dist/ file's, relative to the
 * bundle), so the files it finds next to itself are found there.
 */
async function bundleCommand(): Promise<void> {
  const out = join(dist, CLI_BUNDLE_DIR)
  await bundleCli(out, {
    main: join(dist, 'cli', 'main.js'),
    urlOf: (id) => {
      if (!id.startsWith(dist + sep)) return undefined
      const path = relative(out, id).split(sep).join('/')
      return `new URL(${JSON.stringify(path)}, import.meta.url).href`
    },
    sourcemap: false,
  })
}

const started = performance.now()
try {
  await clean()
  await compile()
  const assets = await copyAssets()
  await rewriteSpecifiers()
  await checkNoTsReferences()
  await bundleCommand()
  await chmod(join(dist, 'cli', 'bin.js'), 0o755)
  const files = (await filesUnder(dist)).length
  console.log(`dist/: ${files} files (${assets} copied from src) in ${Math.round(performance.now() - started)} ms`)
} catch (err) {
  console.error(`build failed: ${(err as Error).message}`)
  process.exitCode = 1
}
