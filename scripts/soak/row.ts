/** One case of a soak suite: what was measured, the pass figure it is held to, and whether it met it. */
export interface SoakRow {
  suite: string
  case: string
  figure: string
  pass: string
  ok: boolean
  detail?: Record<string, unknown>
}
