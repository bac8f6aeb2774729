import type { Command } from 'commander'
import { DEFAULT_API_URL, getJson } from '../client/api.ts'
import type { CommandContext } from '../context.ts'
import { toJson } from '../files.ts'
import { formatMs } from '../format.ts'
import { url } from '../parsers.ts'
import { formatBytes } from '../size.ts'

/** The fields of GET /v1/status this command prints; the rest shows with --json. */
interface StatusBody {
  version?: string
  peerId?: string
  addresses?: string[]
  running?: boolean
  peers?: number
  storage?: { blobs?: number; shards?: number; bytes?: number; quotaBytes?: number; quarantined?: number }
  served?: Record<string, number>
  refused?: Record<string, number>
  cancelled?: Record<string, number>
  recentErrors?: { time: string; message: string; code?: string }[]
  disperseEnabled?: boolean
}

export function registerStatus(program: Command, ctx: CommandContext): void {
  program
    .command('status')
    .summary("a running node's status from its API")
    .description("print a running node's status from its HTTP API (GET /v1/status)")
    .option('--api <url>', 'base URL of the node API', url, DEFAULT_API_URL)
    .option('--json', 'print the API answer as JSON')
    .action(async (opts: { api: string; json?: boolean }) => {
      const started = performance.now()
      const body = (await getJson(opts.api, '/v1/status')) as StatusBody
      if (opts.json) {
        ctx.io.out(`${toJson(body)}\n`)
        return
      }
      const s = body.storage ?? {}
      const lines = [
        `node        ${body.peerId ?? '?'} (dacnet ${body.version ?? '?'}, ${body.running ? 'running' : 'not running'})`,
        `api         ${opts.api} (answered in ${formatMs(performance.now() - started)}; disperse ${body.disperseEnabled ? 'enabled' : 'disabled'})`,
        `peers       ${body.peers ?? '?'}`,
        `storage     ${s.blobs ?? '?'} blobs, ${s.shards ?? '?'} shards, ${formatBytes(s.bytes ?? 0)} of ${formatBytes(s.quotaBytes ?? 0)} quota, ${s.quarantined ?? 0} quarantined`,
        `served      ${counts(body.served)}`,
        `refused     ${counts(body.refused)}`,
        `cancelled   ${counts(body.cancelled)} (clients that had what they needed)`,
        ...(body.addresses ?? []).map((a, i) => `${i === 0 ? 'addresses' : '         '}   ${a}`),
      ]
      for (const e of (body.recentErrors ?? []).slice(-5))
        lines.push(`error       ${e.time} ${e.code ?? ''} ${e.message}`)
      ctx.io.out(`${lines.join('\n')}\n`)
    })
}

/** `store 3, sample 10`; `none` when there is nothing to count. */
function counts(byKey: Record<string, number> | undefined): string {
  const entries = Object.entries(byKey ?? {})
  return entries.length === 0 ? 'none' : entries.map(([key, count]) => `${key} ${count}`).join(', ')
}
