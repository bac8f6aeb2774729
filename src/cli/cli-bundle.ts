import { mkdir } from 'node:fs/promises'

/**
 * dacnet's CLI bundled with rolldown (a development dependency, imported only here, when a bundle is built) into one
 * ES module, `main.mjs`, which runs the CLI, plus a chunk for each command it loads on demand: tree-shaken, so a
 * process loads a few dozen files instead of the 1,700 modules of the CLI and its dependencies, and keeps far less
 * code in its heap. Two layouts use it: the devnet's nodes (src/cli/devnet/node-bundle.ts, from the sources, kept in
 * a local cache) and the built package (scripts/build.ts, from dist/, shipped in dist/cli-bundle/).
 *
 * The bundle is the same code. Each of dacnet's modules keeps its own location: its `import.meta.url` becomes what
 * `layout.urlOf` says, so the files found next to a module (the Reed–Solomon WebAssembly, package.json, the erasure
 * worker's module) are found as before; a module of dacnet's that reads another `import.meta` property fails the
 * build. Native add-ons and rolldown itself (reached only by `dacnet web` building the browser bundle) stay outside
 * (CLI_BUNDLE_EXTERNAL). Dependencies are bundled as they are: none of those the CLI reaches reads files next to
 * itself, which a bundle would move (the devnet's tests run every node from a bundle).
 */
export interface CliBundleLayout {
  /** The CLI's entry module (it exports `main`). */
  main: string
  /**
   * The JavaScript expression that stands for `import.meta.url` in module `id`, or undefined if `id` is not one of
   * dacnet's modules.
   */
  urlOf(id: string): string | undefined
  /** Write source maps beside the bundle (read by Node only under --enable-source-maps). */
  sourcemap: boolean
}

/** The built package's bundle, under dist/ (scripts/build.ts); dist/cli/bin.js runs its main.mjs. */
export const CLI_BUNDLE_DIR = 'cli-bundle'

/**
 * Bare specifiers left to Node's resolution, each one of dacnet's own dependencies, so that it resolves from the
 * bundle as from dist/: the packages with native add-ons (level loads classic-level's), and the bundler.
 */
export const CLI_BUNDLE_EXTERNAL = ['level', '@chainsafe/blst', 'rolldown']

const ENTRY = '\0dacnet-cli-entry'

/**
 * `import.meta.url` and `import.meta.main` of dacnet's module `id` replaced (see CliBundleLayout), any other property
 * refused; a dependency's code as it is.
 */
export function keepLocation(code: string, id: string, layout: CliBundleLayout): string {
  const url = layout.urlOf(id)
  if (url === undefined) return code
  return code.replace(/\bimport\.meta\.(\w+)\b/g, (_, property: string) => {
    if (property === 'url') return url
    // Only the bundle's own entry runs the CLI: main's `if (import.meta.main)` is false inside it.
    if (property === 'main') return 'false'
    throw new Error(`${id} reads import.meta.${property}: a bundled module has only url and main`)
  })
}

/** Bundles the CLI of `layout` into `outDir` (created): main.mjs and its chunks. */
export async function bundleCli(outDir: string, layout: CliBundleLayout): Promise<void> {
  const { rolldown } = await import('rolldown')
  await mkdir(outDir, { recursive: true })
  const bundle = await rolldown({
    input: { main: ENTRY },
    platform: 'node',
    external: [/^node:/, ...CLI_BUNDLE_EXTERNAL.map((name) => new RegExp(`^${name}(/|$)`))],
    logLevel: 'silent',
    plugins: [
      {
        name: 'dacnet-cli-entry',
        resolveId: (id) => (id === ENTRY ? ENTRY : null),
        load: (id) => (id === ENTRY ? `import { main } from ${JSON.stringify(layout.main)}\nawait main()\n` : null),
      },
      {
        name: 'dacnet-module-locations',
        transform: (code, id) =>
          id.startsWith('\0') || !code.includes('import.meta.') ? null : keepLocation(code, id, layout),
      },
    ],
  })
  try {
    await bundle.write({
      dir: outDir,
      format: 'esm',
      entryFileNames: '[name].mjs',
      chunkFileNames: '[name]-[hash].mjs',
      sourcemap: layout.sourcemap,
    })
  } finally {
    await bundle.close()
  }
}
