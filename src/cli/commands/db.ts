import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { IntegrityReport } from '../../storage/index.ts'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError, usageError } from '../errors.ts'
import { pathExists, toJson } from '../files.ts'
import { formatMs } from '../format.ts'
import { integer } from '../parsers.ts'
import { formatBytes } from '../size.ts'

interface CheckOptions {
  dataDir?: string
  config?: string
  json?: boolean
  quarantine?: boolean
  maxListed?: number
}

export function registerDbCommands(program: Command, ctx: CommandContext): void {
  const db = program.command('db').description("the node's shard store (LevelDB)")
  db.command('check')
    .summary("check a stopped node's store")
    .description(
      "re-verify every header hash and shard proof and the cross-entry invariants of a stopped node's store; exit 1 if anything is wrong",
    )
    .option('--data-dir <dir>', "the store directory (a node directory's data/)")
    .option('--config <file>', "take the store directory from a node config's dataDir")
    .option('--json', 'print the full report as JSON')
    .option('--quarantine', 'also quarantine the corrupt entries found (default: only read)')
    .option('--max-listed <n>', 'items listed per problem kind (counts are always complete)', integer(1, 100_000))
    .action(async (opts: CheckOptions) => {
      if ((opts.dataDir === undefined) === (opts.config === undefined)) {
        throw usageError('pass exactly one of --data-dir DIR and --config FILE')
      }
      let dir: string
      if (opts.dataDir !== undefined) dir = resolve(ctx.io.cwd, opts.dataDir)
      else {
        // As `dacnet node` reads it: DACNET_* variables over the file (a container sets dataDir that way).
        const { loadNodeConfig } = await import('../config/load.ts')
        const loaded = await loadNodeConfig({
          configFile: opts.config,
          env: ctx.io.env,
          flags: new Map(),
          cwd: ctx.io.cwd,
        })
        dir = loaded.config.dataDir
      }
      if (!(await pathExists(dir))) throw cliError(CliErrorCode.FILE_NOT_FOUND, `data directory ${dir} does not exist`)
      const { checkShardStore } = await import('../../storage/index.ts')
      const report = await checkShardStore(dir, {
        ...(opts.quarantine ? { quarantine: true } : {}),
        ...(opts.maxListed !== undefined ? { maxListed: opts.maxListed } : {}),
      })
      ctx.io.out(opts.json ? `${toJson(report)}\n` : humanReport(dir, report))
      if (!report.ok) {
        throw cliError(
          CliErrorCode.DB_CHECK_FAILED,
          `${dir}: ${report.corrupt.count} corrupt entries, ${report.attestedMissingShards.count} attested blobs missing shards, ${report.incompleteBlobs.count} incomplete blobs${report.usage.consistent ? '' : ', usage counters off'}`,
        )
      }
    })
}

function humanReport(dir: string, r: IntegrityReport): string {
  const lines = [
    `${dir}: ${r.ok ? 'OK' : 'PROBLEMS FOUND'}${r.complete ? '' : ' (scan stopped early at a damaged block)'} in ${formatMs(r.durationMs)} (schema ${r.schemaVersion})`,
    `  ${r.blobs} blobs (${r.pruningBlobs} being pruned, ${r.expiredBlobs} expired), ${r.shards} shards, ${r.attestations} attestations, ${r.certificates} certificates`,
    `  ${formatBytes(r.usage.scanned.bytes)} scanned; counters ${r.usage.consistent ? 'consistent' : 'INCONSISTENT with the data'}`,
    `  corrupt ${r.corrupt.count} (quarantined now ${r.quarantinedNow}, earlier ${r.quarantined}); attested missing shards ${r.attestedMissingShards.count}; incomplete ${r.incompleteBlobs.count}`,
    `  orphan shards ${r.orphanShards}, schema-1 shards ${r.schemaOneShards}, missing expiry ${r.missingExpiry}, unknown entries ${r.unknownEntries}`,
  ]
  for (const c of r.corrupt.items)
    lines.push(
      `  corrupt ${c.bucket} ${c.blobId}${c.index === undefined ? '' : ` #${c.index}`}: ${c.reason} (${c.detail})`,
    )
  for (const b of r.attestedMissingShards.items) {
    lines.push(`  attested but missing shards: ${b.blobId} (${b.presentShards} of ${b.expectedShards ?? '?'})`)
  }
  return `${lines.join('\n')}\n`
}
