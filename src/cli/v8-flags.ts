import { setFlagsFromString } from 'node:v8'

/**
 * V8 flags every `dacnet` process sets for itself as it starts (main.ts), before any command loads: node, devnet
 * (its own sequencer and, through it, every member it spawns), disperse, retrieve. NODE_OPTIONS refuses them, and an
 * operator starting `dacnet` by its installed command could not pass them on Node's command line; set at start-up
 * they take effect for the whole life of the process (test/cli/v8-flags.test.ts checks that they do).
 *
 * - `--external-memory-accounted-in-global-limit`: memory outside V8's heap (the ArrayBuffers that hold shards,
 *   frames and ciphertext) counts toward the one limit that grows with the process's memory, instead of a limit of its
 *   own that V8 otherwise moves only 64 MiB past what was live at the last collection. A sequencer or member handles
 *   hundreds of MiB of buffers a blob while its heap holds tens, so without the flag every 64 MiB of buffers started
 *   a full marking of the heap: the sequencer ran two for every 16 MiB blob. On the 16-member devnet (file
 *   committee, eight 16 MiB blobs back to back on a fresh committee, two alternating pairs): V8's helper threads
 *   1.26 / 1.28 -> 0.38 / 0.42 CPU-s in the sequencer and 2.62 / 2.58 -> 1.41 / 1.43 in the members together,
 *   21.1 / 20.5 -> 23.0 / 25.7 MB/s; the first 32 MiB dispersal after start-up, peak above idle 4.29 / 4.44 ->
 *   3.90 / 4.05 shares (worst node), 3.52 / 3.36 -> 3.28 / 3.42 (median), for an idle memory of 157-158 -> 164 MiB
 *   a node. In the full benchmark plan the sequencer's CPU per MiB fell from 0.052 to 0.022-0.025 CPU-s.
 *
 * A sequencer embedding the library passes the flag on Node's command line for its own process:
 * `node --external-memory-accounted-in-global-limit app.js` (OPERATORS.md §7).
 */
export const DACNET_V8_FLAGS: readonly string[] = ['--external-memory-accounted-in-global-limit']

/** Sets DACNET_V8_FLAGS in this process. Call it once, before the process allocates much. */
export function applyV8Flags(): void {
  for (const flag of DACNET_V8_FLAGS) setFlagsFromString(flag)
}
