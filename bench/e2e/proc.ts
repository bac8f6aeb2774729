/**
 * What Linux says of a process in /proc: its CPU time and its memory. Node processes are read by pid; the
 * benchmark's own process (the sequencer, light client and retriever of the devnet) by `process.cpuUsage()`, which
 * counts every thread of it, the erasure worker included.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat's times: `getconf CLK_TCK`, 100 on every Linux we know of. */
const CLOCK_TICKS = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100
  } catch {
    return 100
  }
})()

/** User plus system CPU seconds a process has used since it started (all its threads), from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of the whole line, 12th and 13th after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/**
 * Pids of this process's own children whose command name is `name`, e.g. the devnet chain's anvil (started by
 * `startAnvil`, which keeps its pid to itself).
 */
export function childPidsNamed(name: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (comm === name && ppid === process.pid) pids.push(Number(entry))
    } catch {
      // Gone between the listing and the read.
    }
  }
  return pids
}

/** CPU seconds this process has used (user plus system, every thread). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

export interface Memory {
  /** Resident set now (VmRSS), bytes. */
  rss: number
  /** Peak resident set (VmHWM) since the process started or since `resetPeak`, bytes. */
  peak: number
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)
    if (!match) throw new Error(`no ${field} in /proc/${pid}/status`)
    return Number(match[1]) * 1024
  }
  return { rss: kib('VmRSS'), peak: kib('VmHWM') }
}

/**
 * Sets a process's peak resident set (VmHWM) back to its current one (`5` to /proc/<pid>/clear_refs, Linux 4.0
 * and later, a process of the same user). False when the kernel refused: the peak then counts from its start.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}
