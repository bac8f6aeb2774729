#!/usr/bin/env node
/**
 * The installed `dacnet` command (package.json `bin`): checks the Node.js version before anything else loads,
 * then runs the CLI (main.ts). Built, this file keeps to syntax and APIs that old Node.js versions parse and have
 * (no top-level await, no static import of the CLI), so that an unsupported Node prints one line instead of a stack
 * trace.
 */
import { existsSync, readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
const range = String(pkg.engines.node)
const wanted = (/(\d+)\.(\d+)\.(\d+)/.exec(range) || []).slice(1).map(Number)
const found = process.versions.node.split('.').map(Number)

/** Whether version `a` is below `b`, compared part by part. */
function older(a: number[], b: number[]): boolean {
  for (let i = 0; i < b.length; i++) {
    const x = a[i] || 0
    const y = b[i] || 0
    if (x !== y) return x < y
  }
  return false
}

if (older(found, wanted)) {
  process.stderr.write(`dacnet needs Node.js ${range}, found v${process.versions.node}\n`)
  process.exitCode = 1
} else {
  // A built package ships the command bundled (scripts/build.ts): one module to load instead of ~1,700. The bundle's
  // entry runs the CLI itself; from the sources (or a build without it), main.ts does.
  const bundled = new URL('../cli-bundle/main.mjs', import.meta.url)
  const run = existsSync(bundled) ? import(bundled.href) : import('./main.ts').then((cli) => cli.main())
  run.catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : err}\n`)
    process.exit(1)
  })
}
