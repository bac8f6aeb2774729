/** What the page and its worker say to each other (structured-clone data only). */
import type { SampleOutcome } from '../node/light-client.ts'

/** Page -> worker: check one certified blob, by id (the certificate is fetched) or by a pasted certificate. */
export interface CheckRequest {
  type: 'check'
  blob?: string
  /** A certificate as JSON (as `dacnet disperse` writes it) or as hex of its binary layout. */
  certificate?: string
  /** Target confidence; default the light client's. */
  confidence?: number
}

export interface MemberView {
  index: number
  peerId: string
  stake: string
}

export interface CertificateView {
  blobId: string
  epoch: number
  dataSize: number
  k: number
  n: number
  signers: number
  members: number
  signedStake: string
  totalStake: string
}

export interface CheckSummary {
  confidence: number
  target: number
  samples: number
  successes: number
  distinctSuccesses: number
  bytes: number
  /** Certificate fetch and verification. */
  verifyMs: number
  /** Sampling alone. */
  sampleMs: number
  /** From the request to the verdict, committee and certificate fetch included. */
  totalMs: number
}

/** Worker -> page. */
export type CheckEvent =
  | { type: 'stage'; text: string }
  | { type: 'certificate'; certificate: CertificateView; members: MemberView[] }
  | { type: 'outcome'; outcome: SampleOutcome }
  | { type: 'done'; status: 'available' | 'unavailable'; summary: CheckSummary }
  | { type: 'invalid-certificate'; code: string; message: string; ms: number }
  | { type: 'error'; code: string; message: string }

/** The page's hooks for tests and scripts (data-testid="status"). */
export type PageStatus = 'idle' | 'checking' | 'available' | 'unavailable' | 'invalid-certificate' | 'error'
