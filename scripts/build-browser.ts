/**
 * Writes dacnet's browser bundle (src/browser/build.ts) to dist/bundle, or to the directory given:
 * `npm exec -- node scripts/build-browser.ts [OUT_DIR]`. `dacnet web --bundle DIR` serves such a directory.
 */
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeBrowserBundle } from '../src/browser/build.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

if (import.meta.main) {
  const outDir = resolve(process.argv[2] ?? join(ROOT, 'dist/bundle'))
  const started = performance.now()
  const files = await writeBrowserBundle(outDir)
  const bytes = files.reduce((sum, f) => sum + Buffer.byteLength(f.code), 0)
  console.log(
    `${files.length} files, ${(bytes / 1024).toFixed(0)} KiB, in ${outDir} (${Math.round(performance.now() - started)} ms)`,
  )
}
