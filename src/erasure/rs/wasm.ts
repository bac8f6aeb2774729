import { readFileSync } from 'node:fs'

/**
 * Synchronous loader of the Reed–Solomon kernels (asm/rs, compiled to rs.wasm by scripts/build-wasm.ts).
 * Compiling and instantiating at module load keeps `rsEncode`/`rsDecode` synchronous in any thread: each
 * worker thread that imports this gets its own instance and memory.
 */
export interface RsKernels {
  readonly memory: WasmMemory
  init(): void
  dynamicBase(): number
  receivedBase(): number
  erasuresBase(): number
  nonzeroPrefixBase(): number
  wantedPrefixBase(): number
  fft(
    base: number,
    stride: number,
    width: number,
    size: number,
    truncated: number,
    skewDelta: number,
    wantedOnly: number,
  ): void
  fftMoved(
    src: number,
    srcStride: number,
    work: number,
    workStride: number,
    dst: number,
    dstStride: number,
    width: number,
    size: number,
    truncated: number,
    skewDelta: number,
    wantedOnly: number,
  ): void
  ifftMoved(
    src: number,
    srcStride: number,
    work: number,
    workStride: number,
    width: number,
    size: number,
    truncated: number,
    skewDelta: number,
    nonzeroOnly: number,
  ): void
  ifft(
    base: number,
    stride: number,
    width: number,
    size: number,
    truncated: number,
    skewDelta: number,
    nonzeroOnly: number,
  ): void
  positionsBase(): number
  xorSlots(dst: number, src: number, stride: number, width: number, count: number): void
  movePositions(
    positions: number,
    work: number,
    width: number,
    staging: number,
    stride: number,
    count: number,
    toStaging: number,
  ): void
  formalDerivative(base: number, stride: number, width: number, count: number): void
  scaleStaged(staging: number, stride: number, width: number, positions: number, count: number, reveal: number): void
  zeroUnreceived(base: number, stride: number, width: number, count: number): void
  evalErasureLocator(truncated: number): void
}

/** The part of the WebAssembly JS API used here (the project's TypeScript libs declare none of it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { readonly exports: object }
}
const { Module, Instance } = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/** Bytes per WebAssembly page. */
const WASM_PAGE = 65536

const wasmBytes = readFileSync(new URL('./rs.wasm', import.meta.url))
const instance = new Instance(new Module(wasmBytes), {})

export const kernels = instance.exports as unknown as RsKernels
kernels.init()

/** First byte of linear memory that the TypeScript side may use for staging shards. */
export const DYNAMIC_BASE = kernels.dynamicBase()

let view = new Uint8Array(kernels.memory.buffer)

/** Makes linear memory at least `end` bytes long and returns a byte view of all of it. */
export function reserveMemory(end: number): Uint8Array {
  const have = kernels.memory.buffer.byteLength
  if (end > have) kernels.memory.grow(Math.ceil((end - have) / WASM_PAGE))
  return heap()
}

/** A byte view of linear memory, renewed after the memory grew (growing detaches the old buffer). */
export function heap(): Uint8Array {
  if (view.buffer !== kernels.memory.buffer) view = new Uint8Array(kernels.memory.buffer)
  return view
}
