import { setFlagsFromString } from 'node:v8'

/**
 * V8 flags a `dacnet` process sets for itself as it starts (main.ts), before its command loads, when the command
 * disperses, retrieves or samples (FLAGGED_COMMANDS): devnet (its own process is the sequencer, light client and
 * retriever), disperse, retrieve, sample, da-server. NODE_OPTIONS refuses them, and a user starting the installed
 * `dacnet` command could not pass them on Node's command line; set at start-up they hold for the whole life of the
 * process (test/cli/v8-flags.test.ts checks that they do).
 *
 * - `--external-memory-accounted-in-global-limit`: memory outside V8's heap (the ArrayBuffers that hold shards,
 *   frames and ciphertext) counts toward the one limit that grows with the process's memory, instead of a limit of
 *   its own that V8 otherwise moves only 64 MiB past what was live at the last collection. A sequencer handles
 *   hundreds of MiB of buffers a blob while its heap holds tens, so without the flag every 64 MiB of buffers started
 *   a full marking of the heap: two for every 16 MiB blob. On the 16-member devnet (eight 16 MiB blobs back to back
 *   on a fresh file committee, two alternating pairs) the sequencer's V8 helper threads went from 1.26 / 1.28 to
 *   0.38 / 0.42 CPU-s, and in the full benchmark plan its CPU per MiB from 0.052 to 0.022-0.025 CPU-s; its memory
 *   after those eight blobs grew from 667 to 738 MiB (the benchmark's process holds its blobs too).
 *
 * Committee nodes (`dacnet node`) do not set it. It saved their V8 helpers about half their CPU (2.62 / 2.58 ->
 * 1.41 / 1.43 CPU-s, the 16 members together), but a node then frees the buffers of the shards it received only when
 * its heap's global limit is reached, and LevelDB's write batches (native memory V8 does not see, freed when their
 * JavaScript objects are collected) wait with them: after the same eight blobs the node holding the largest share
 * stayed at 471-485 MiB resident instead of 326-332, and the median node at 218-222 instead of 197-210, ten seconds
 * idle later as well.
 *
 * A sequencer embedding the library passes the flag on Node's command line for its own process:
 * `node --external-memory-accounted-in-global-limit app.js` (SDK.md).
 */
export const DACNET_V8_FLAGS: readonly string[] = ['--external-memory-accounted-in-global-limit']

/** The commands whose processes set DACNET_V8_FLAGS: those that disperse, retrieve or sample. */
export const FLAGGED_COMMANDS: ReadonlySet<string> = new Set(['devnet', 'disperse', 'retrieve', 'sample', 'da-server'])

/**
 * Whether a process started with `argv` (without the node and script arguments) sets DACNET_V8_FLAGS: its command,
 * the first argument that is not an option (the program's one option, `--debug`, takes no value), is flagged.
 */
export function wantsV8Flags(argv: readonly string[]): boolean {
  const command = argv.find((arg) => !arg.startsWith('-'))
  return command !== undefined && FLAGGED_COMMANDS.has(command)
}

/** Sets DACNET_V8_FLAGS in this process. Call it once, before the process allocates much. */
export function applyV8Flags(): void {
  for (const flag of DACNET_V8_FLAGS) setFlagsFromString(flag)
}
