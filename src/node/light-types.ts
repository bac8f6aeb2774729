/** What a light-client check takes and gives (LightClient.sample): its options, its outcomes and its result. */

export interface SampleOptions {
  /** Target confidence in (0, 1). Default DEFAULT_TARGET_CONFIDENCE (light-client.ts). */
  confidence?: number
  maxSamples?: number
  /** Time allowed for one holder to answer one request, whole ms up to 2^31 − 1. Default DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS (holder-requests.ts). */
  requestTimeoutMs?: number
  /**
   * How long a holder may stay silent before the client remembers it silent, so that its later checks skip it
   * (its request runs on to the request timeout: only that, a refusal or a failure it reports fails it), and
   * the base of the speculation delay past which this check draws its next round without waiting for it.
   * Undefined (the default): the adaptive rule of hedge.ts — none until a holder has answered in this call, then
   * max(HEDGE_FLOOR_MS, HEDGE_MULTIPLIER × the slowest comparable answer so far), new connections compared with
   * new connections. A number > 0: that fixed delay for every request. 0: no hedging, no speculation: every
   * round waits for its holders, each at most the request timeout.
   */
  hedgeDelayMs?: number
  /**
   * Connections to open as the check starts, at most this many dials at once: to every holder of the blob the
   * client has no connection to and does not remember silent or down, the holders of most shards first, so that
   * later rounds find their connections open and a holder that refuses is known down before its samples are
   * drawn. Worth it where a new connection costs many round trips and little work (a distant committee); on a
   * near one it costs more than it saves. Default DEFAULT_DIAL_AHEAD (light-client.ts; 0: only the holders drawn are dialled, as
   * they are drawn).
   */
  dialAhead?: number
  signal?: AbortSignal
  /** Called once per distinct index as its outcome is known: a page can draw the samples as they come in. */
  onOutcome?: (outcome: SampleOutcome) => void
}

/** One sampled index's outcome: the holder asked and whether the shard came back with a valid proof. */
export interface SampleOutcome {
  index: number
  member: number
  peerId: string
  ok: boolean
  /** The failure's code when not ok. */
  code?: string
}

export interface SampleFailure {
  index: number
  member: number
  peerId: string
  code: string
  reason: string
}

/** A counted sample whose holder had not answered when the check concluded. */
export interface SampleUnanswered {
  index: number
  member: number
  peerId: string
  /** How long the holder had been asked (or dialled) without a word when the check concluded. */
  waitedMs: number
}

export interface SampleResult {
  blobId: string
  available: boolean
  /**
   * 1 − the error the check may have spent: the allowance of the rounds before the one it concluded on, and that
   * round's bound on seeing this many successes with fewer than k shards retrievable (checkConfidence, PROTOCOL §3.9).
   */
  confidence: number
  /**
   * Samples the verdict rests on: the first `samples` indices drawn (with replacement, so an index may count more
   * than once), the draws of the rounds up to the one that concluded. Draws of a later round that went out early
   * are not counted.
   */
  samples: number
  /** Of those, the ones whose index came back with a valid proof. */
  successes: number
  /** Distinct indices that came back with a valid proof. */
  distinctSuccesses: number
  /** Indices among the counted samples that failed, each once, with the failure's code. */
  failures: SampleFailure[]
  /**
   * Indices among the counted samples whose holder had not answered when the check concluded: counted as failures,
   * never as successes. Their requests run on after the check returns, until the holder answers or the request
   * times out (a holder silent past the hedge delay is remembered silent meanwhile).
   */
  unanswered: SampleUnanswered[]
  /**
   * Bytes of shard data and proofs that arrived from holders, counted as they came: every shard a holder sent,
   * valid or not, including those of a request that failed afterwards. Wire framing is not counted.
   */
  bytes: number
  ms: number
}
