import { BLOB_KEY_SIZE, Bucket, blobKey } from '../buckets.ts'
import type { BatchOp, RawDb } from '../db.ts'
import { type ReadOptions, Repository } from './repository.ts'

/**
 * Bytes this layer stores per blob without interpreting them: the attest layer owns their encoding and their
 * verification. Key `bucket || blobId`, value the bytes as given.
 */
abstract class OpaqueBlobRepository extends Repository {
  key(blobId: Uint8Array): Uint8Array {
    return blobKey(this.bucket, blobId)
  }

  entryBytes(value: Uint8Array): number {
    return BLOB_KEY_SIZE + value.length
  }

  async get(blobId: Uint8Array, opts?: ReadOptions): Promise<Uint8Array | undefined> {
    return this.getRaw(this.key(blobId), opts)
  }

  put(blobId: Uint8Array, value: Uint8Array): BatchOp {
    return this.putOp(this.key(blobId), value)
  }

  del(blobId: Uint8Array): BatchOp {
    return this.delOp(this.key(blobId))
  }
}

/** This node's own availability attestation for a blob (bucket 0x03). */
export class AttestationRepository extends OpaqueBlobRepository {
  constructor(db: RawDb) {
    super(db, Bucket.attestation)
  }
}

/** A certificate for a blob (bucket 0x04): the aggregate the sequencer built, as gossiped. */
export class CertificateRepository extends OpaqueBlobRepository {
  constructor(db: RawDb) {
    super(db, Bucket.certificate)
  }
}
