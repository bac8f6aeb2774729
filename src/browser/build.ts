/**
 * dacnet's browser bundle, built with rolldown (a development dependency: `dacnet web` and
 * scripts/build-browser.ts load this module only when they build):
 *
 *   dacnet.js      the library entry (src/browser/index.ts): LightClient, verifyCertificate, certificate codecs,
 *                  committees from a committee file, libp2p over WebSockets
 *   web/app.js     the page of `dacnet web` (src/web/app.ts), and web/worker.js, where its light client runs
 *
 * The bundle is the code Node runs with three modules swapped (BROWSER_MODULES): attest/bls.ts for the noble
 * backend, node:crypto and node:timers/promises for web-standard versions. Modules only the Node path needs at
 * load time (the Reed–Solomon WebAssembly, read with node:fs) are marked free of side effects so that tree
 * shaking drops them: the light client never decodes. `buildBrowser()` returns the files in memory; it fails if
 * any `node:` import is left.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Plugin, rolldown } from 'rolldown'

const SRC = fileURLToPath(new URL('..', import.meta.url))
const src = (path: string) => resolve(SRC, path)

/** Module (resolved path or bare specifier) -> its browser file. */
export const BROWSER_MODULES: Record<string, string> = {
  [src('attest/bls.ts')]: src('browser/bls.ts'),
  'node:crypto': src('browser/node-crypto.ts'),
  'node:timers/promises': src('browser/node-timers-promises.ts'),
}

/** Modules whose top level has side effects only the Node path needs; dropped when nothing of theirs is used. */
const NODE_ONLY_LOAD = [src('erasure/rs/'), src('erasure/encode.ts')]

export const BROWSER_ENTRIES = {
  dacnet: src('browser/index.ts'),
  'web/app': src('web/app.ts'),
  'web/worker': src('web/worker.ts'),
}

export interface BrowserFile {
  fileName: string
  /** Text of a chunk or asset. */
  code: string
  /** Ids of the modules a chunk holds (empty for assets). */
  modules: string[]
  /** Bare imports the chunk kept (always empty for a good build). */
  imports: string[]
}

export function browserModules(): Plugin {
  return {
    name: 'dacnet-browser-modules',
    async resolveId(source, importer, options) {
      const bare = BROWSER_MODULES[source]
      if (bare) return bare
      // The Node-only modules' own imports (node:fs, node:util) stay unresolved: tree shaking drops their importers,
      // and buildBrowser() fails if one is left.
      if (source.startsWith('node:') && importer && NODE_ONLY_LOAD.some((prefix) => importer.startsWith(prefix))) {
        return { id: source, external: true }
      }
      if (!importer || !source.startsWith('.')) return null
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true })
      const swapped = resolved && BROWSER_MODULES[resolved.id]
      return swapped ? swapped : null
    },
  }
}

/** Builds the bundle in memory. Throws if a `node:` module is imported anywhere in it. */
export async function buildBrowser(
  opts: { minify?: boolean; entries?: Record<string, string> } = {},
): Promise<BrowserFile[]> {
  const bundle = await rolldown({
    input: opts.entries ?? BROWSER_ENTRIES,
    platform: 'browser',
    plugins: [browserModules()],
    treeshake: {
      moduleSideEffects: (id) => !NODE_ONLY_LOAD.some((prefix) => id.startsWith(prefix)),
    },
    logLevel: 'warn',
  })
  try {
    const { output } = await bundle.generate({
      format: 'esm',
      dir: 'out',
      minify: opts.minify ?? true,
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/[name]-[hash].js',
    })
    const files = output.map(
      (item): BrowserFile =>
        item.type === 'chunk'
          ? { fileName: item.fileName, code: item.code, modules: item.moduleIds, imports: item.imports }
          : {
              fileName: item.fileName,
              code: typeof item.source === 'string' ? item.source : new TextDecoder().decode(item.source),
              modules: [],
              imports: [],
            },
    )
    const nodeModules = files.flatMap((f) => [...f.modules, ...f.imports]).filter((id) => id.startsWith('node:'))
    if (nodeModules.length > 0) throw new Error(`the browser bundle imports ${[...new Set(nodeModules)].join(', ')}`)
    return files
  } finally {
    await bundle.close()
  }
}

/** Writes the bundle under `outDir` (emptied first). */
export async function writeBrowserBundle(outDir: string): Promise<BrowserFile[]> {
  const files = await buildBrowser()
  await rm(outDir, { recursive: true, force: true })
  for (const file of files) {
    const path = join(outDir, file.fileName)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, file.code)
  }
  return files
}
