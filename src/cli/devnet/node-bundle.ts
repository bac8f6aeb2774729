import { createHash } from 'node:crypto'
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { bundleCli, CLI_BUNDLE_DIR } from '../cli-bundle.ts'
import { pathExists } from '../files.ts'

/**
 * The program a devnet's node processes run. From a checkout, dacnet's CLI bundled into one ES module (plus a chunk
 * for each command loaded on demand), built from the sources with rolldown and kept in a cache keyed by their
 * content, so it is built once per change of the sources or the lockfile; in a built package, the bundle it ships.
 *
 * Why: a committee node started from the TypeScript sources loads 1,719 modules, each read, type-stripped and kept as
 * source in V8's heap. Loading a node's code took 37.0 MB of heap, 174 MB resident and 0.84-0.94 s from the sources,
 * 15.4 MB, 113 MB and 0.25 s from the bundle; sixteen nodes were ready in 6.3-6.9 s instead of 14.4-14.9, and idled
 * at 207-213 MiB a node instead of 231-238 (BENCHMARKS.md). A smaller heap also leaves more room under the node's
 * old-generation limit, so full collections come less often.
 *
 * The bundle is the same code (src/cli/cli-bundle.ts): each of dacnet's modules keeps its location, so the files
 * found next to one (the Reed–Solomon WebAssembly, package.json, the erasure worker, which then runs from the
 * sources) are found as before; native add-ons stay outside it. A stack trace of
 * a bundled node points into the bundle unless the node runs with `--enable-source-maps` (`DACNET_NODE_EXEC_ARGV`;
 * the bundle's maps are written beside it), and `DACNET_NODE_BUNDLE=0` runs the nodes from the sources instead.
 */
export interface NodeProgram {
  /** The module a node process runs (`node <path> node --config …`). */
  path: string
  bundled: boolean
  /** Why the nodes do not run from a bundle, when they do not. */
  reason?: string
  /** Set when building the bundle failed (the nodes then run from the sources): the error's message. */
  buildError?: string
  /** Set when this call built the bundle: how long it took. */
  builtMs?: number
}

export interface NodeProgramOptions {
  /** Where bundles are kept, one directory per content hash. Default: node_modules/.cache/dacnet-node of the checkout. */
  cacheDir?: string
  /** Builds the bundle into a directory (tests inject failures). Default: rolldown, as described above. */
  build?: (outDir: string) => Promise<void>
}

const SRC = fileURLToPath(new URL('../..', import.meta.url))
const ROOT = dirname(SRC)
/** The CLI's entry module: what nodes run from the sources (main.js in a built package). */
const SOURCE_MAIN = fileURLToPath(new URL(`../main.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url))
/** Bundles the cache keeps, the one just used among them: one per recent state of the sources. */
const KEEP_BUNDLES = 3
/** A build directory older than this was left by a build that did not finish. */
const ABANDONED_BUILD_MS = 10 * 60_000
/** Changes when the way a bundle is built changes, so older bundles are not reused. */
const BUNDLE_FORMAT = '4'

/** The node program for `env` (DACNET_NODE_BUNDLE=0 asks for the sources), building the bundle if needed. */
export async function nodeProgram(
  env: Readonly<Record<string, string | undefined>>,
  options: NodeProgramOptions = {},
): Promise<NodeProgram> {
  const fromSources = (reason: string): NodeProgram => ({ path: SOURCE_MAIN, bundled: false, reason })
  if (env.DACNET_NODE_BUNDLE === '0') return fromSources('DACNET_NODE_BUNDLE=0')
  if (!SOURCE_MAIN.endsWith('.ts')) {
    // A built package: the bundle it ships (scripts/build.ts), if it has one.
    const shipped = fileURLToPath(new URL(`../../${CLI_BUNDLE_DIR}/main.mjs`, import.meta.url))
    if (await pathExists(shipped)) return { path: shipped, bundled: true }
    return fromSources('a built package without its bundle runs its compiled modules')
  }
  const cacheDir = options.cacheDir ?? join(ROOT, 'node_modules', '.cache', 'dacnet-node')
  const dir = join(cacheDir, await sourcesHash())
  const main = join(dir, 'main.mjs')
  if (await pathExists(main)) return { path: main, bundled: true }
  const started = performance.now()
  const building = `${dir}.building-${process.pid}-${Math.random().toString(36).slice(2)}`
  try {
    await (options.build ?? buildBundle)(building)
    await rename(building, dir).catch(async (err) => {
      // Another devnet built the same bundle meanwhile: use theirs.
      if (!(await pathExists(main))) throw err
    })
  } catch (err) {
    const message = (err as Error).message
    return { ...fromSources(`building the node bundle failed: ${message}`), buildError: message }
  } finally {
    await rm(building, { recursive: true, force: true })
  }
  await pruneBundles(cacheDir, dir)
  return { path: main, bundled: true, builtMs: performance.now() - started }
}

/** SHA-256 over every file under src (path and bytes), the lockfile and BUNDLE_FORMAT. */
async function sourcesHash(): Promise<string> {
  const hash = createHash('sha256').update(`dacnet-node-bundle ${BUNDLE_FORMAT}\0`)
  const entries = await readdir(SRC, { recursive: true, withFileTypes: true })
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
  files.push(join(ROOT, 'package-lock.json'))
  for (const file of files.sort()) {
    hash.update(`${relative(ROOT, file)}\0`)
    hash.update(await readFile(file).catch(() => new Uint8Array()))
    hash.update('\0')
  }
  return hash.digest('hex').slice(0, 32)
}

/**
 * Removes the cache's older bundles, keeping `current` and the KEEP_BUNDLES - 1 most recent others, and what builds
 * that were killed midway left (a build under way is younger than ABANDONED_BUILD_MS).
 */
async function pruneBundles(cacheDir: string, current: string): Promise<void> {
  const dated = await Promise.all(
    (await readdir(cacheDir)).map(async (name) => {
      const path = join(cacheDir, name)
      return {
        name,
        path,
        mtime: await stat(path).then(
          (s) => s.mtimeMs,
          () => Date.now(),
        ),
      }
    }),
  )
  const bundles = dated.filter((d) => /^[0-9a-f]{32}$/.test(d.name) && d.path !== current)
  const abandoned = dated.filter((d) => d.name.includes('.building-') && Date.now() - d.mtime > ABANDONED_BUILD_MS)
  const old = bundles.sort((a, b) => b.mtime - a.mtime).slice(KEEP_BUNDLES - 1)
  for (const entry of [...old, ...abandoned]) await rm(entry.path, { recursive: true, force: true })
}

/** The devnet's layout: bundled from the sources, each of dacnet's modules keeping its absolute location. */
function buildBundle(outDir: string): Promise<void> {
  return bundleCli(outDir, {
    main: join(SRC, 'cli', 'main.ts'),
    urlOf: (id) => (id.startsWith(SRC) ? JSON.stringify(pathToFileURL(id).href) : undefined),
    sourcemap: true,
  })
}
