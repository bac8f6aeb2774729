/**
 * Separate hosts on one machine: each host is its own Linux network namespace with one interface (`eth0`,
 * 10.231.0.x/24) on a bridge that lives in a namespace of its own (the switch), so nothing touches the machine's
 * own network. A host's link can be cut and restored at the switch: its processes keep running, but what they send
 * and what is sent to them is dropped, as when a cable or a data centre's uplink fails (no RST, no ICMP).
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2's `ip`; `unavailableReason()` says why not.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'

const SUBNET = '10.231.0'

export function unavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux only'
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    return 'iproute2 (`ip`) is not installed'
  }
  return undefined
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export class HostNetwork {
  readonly #tag: string
  readonly #hosts: string[]
  readonly #processes = new Set<ChildProcess>()

  private constructor(tag: string, hosts: string[]) {
    this.#tag = tag
    this.#hosts = hosts
  }

  /** Creates the switch and one namespace per host name, each host up with its address. */
  static create(hosts: readonly string[]): HostNetwork {
    if (hosts.length > 250) throw new Error('at most 250 hosts on one switch')
    const net = new HostNetwork(randomBytes(3).toString('hex'), [...hosts])
    try {
      ip(['netns', 'add', net.#switch])
      ip(['-n', net.#switch, 'link', 'add', 'br0', 'type', 'bridge'])
      ip(['-n', net.#switch, 'link', 'set', 'br0', 'up'])
      for (const [i, host] of hosts.entries()) {
        const ns = net.namespace(host)
        const port = net.#port(i)
        ip(['netns', 'add', ns])
        ip(['link', 'add', port, 'netns', net.#switch, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
        ip(['-n', net.#switch, 'link', 'set', port, 'master', 'br0', 'up'])
        ip(['-n', ns, 'addr', 'add', `${net.address(host)}/24`, 'dev', 'eth0'])
        ip(['-n', ns, 'link', 'set', 'eth0', 'up'])
        ip(['-n', ns, 'link', 'set', 'lo', 'up'])
      }
    } catch (err) {
      net.destroy()
      throw err
    }
    return net
  }

  get #switch(): string {
    return `dacnet-${this.#tag}-switch`
  }

  /** The switch-side end of a host's link (interface names are at most 15 characters). */
  #port(index: number): string {
    return `p${this.#tag}-${index}`
  }

  #index(host: string): number {
    const i = this.#hosts.indexOf(host)
    if (i < 0) throw new Error(`no host ${host}`)
    return i
  }

  namespace(host: string): string {
    this.#index(host)
    return `dacnet-${this.#tag}-${host}`
  }

  address(host: string): string {
    return `${SUBNET}.${this.#index(host) + 2}`
  }

  /**
   * Runs `command args` on `host`. `ip netns exec` execs the command in place, so the child's pid is the
   * command's own and signals reach it directly.
   */
  spawn(host: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.namespace(host), command, ...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.#processes.add(child)
    child.once('exit', () => this.#processes.delete(child))
    return child
  }

  /** Drops everything to and from `host` at the switch; its processes keep running. */
  cut(host: string): void {
    ip(['-n', this.#switch, 'link', 'set', this.#port(this.#index(host)), 'down'])
  }

  restore(host: string): void {
    ip(['-n', this.#switch, 'link', 'set', this.#port(this.#index(host)), 'up'])
  }

  /** Bytes `host` has sent onto its link so far (what the switch port received). */
  sentBytes(host: string): number {
    const port = this.#port(this.#index(host))
    const out = execFileSync('ip', ['-n', this.#switch, '-s', '-j', 'link', 'show', 'dev', port], { encoding: 'utf8' })
    const [link] = JSON.parse(out) as { stats64: { rx: { bytes: number } } }[]
    if (!link) throw new Error(`no link ${port}`)
    return link.stats64.rx.bytes
  }

  /** Kills what still runs on the hosts, then removes every namespace (and with them the links and the bridge). */
  destroy(): void {
    for (const child of this.#processes) child.kill('SIGKILL')
    for (const ns of [...this.#hosts.map((h) => `dacnet-${this.#tag}-${h}`), this.#switch]) {
      try {
        ip(['netns', 'del', ns])
      } catch {
        // Not created (a failed create), or already gone.
      }
    }
  }
}
