import type { FastifyInstance } from 'fastify'
import { type CertificateJson, certificateToJson, decodeCertificate } from '../../attest/certificate-codec.ts'
import { toHex } from '../../committee/hex.ts'
import { type BlobId, parseBlobId } from '../../erasure/blob-id.ts'
import { MAX_TOTAL_SHARDS } from '../../erasure/params.ts'
import { prefersOctetStream } from '../accept.ts'
import type { ApiContext } from '../context.ts'
import { ApiErrorCode, apiError } from '../errors.ts'
import { ROUTES } from '../openapi/routes.ts'
import { requesterOf } from '../requester.ts'
import { blobView, shardView } from '../views.ts'

interface BlobParams {
  id: string
}
interface ShardParams extends BlobParams {
  index: string
}

/**
 * GET /v1/blobs/:id and GET /v1/blobs/:id/shards/:index: what this node holds. Both read through the node's
 * shard reads, as the client identified by its address: over its rate, 429 NODE_RATE_LIMITED; every read slot
 * of the node taken, 503 NODE_BUSY (both with Retry-After). Ids and indices are checked before any read.
 */
export function registerBlobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { reads } = ctx.node

  app.get<{ Params: BlobParams }>(ROUTES.getBlob.url, { schema: ROUTES.getBlob.schema }, async (request) => {
    const blobId = parseBlobId(request.params.id)
    const blob = await reads.blob(requesterOf(request.ip), blobId)
    if (blob === undefined) throw notFound(blobId)
    return blobView(blob.info, blob.heldShards, blob.attested, certificateJsonOf(blob.certificate, ctx, blobId))
  })

  app.get<{ Params: ShardParams }>(ROUTES.getShard.url, { schema: ROUTES.getShard.schema }, async (request, reply) => {
    const blobId = parseBlobId(request.params.id)
    const index = parseShardIndex(request.params.index)
    const lookup = await reads.shard(requesterOf(request.ip), blobId, index)
    if (lookup.found === 'no-blob') throw notFound(blobId)
    if (lookup.found === 'outside') {
      throw apiError(ApiErrorCode.INVALID_SHARD_INDEX, `shard index ${index} is outside 0..${lookup.n - 1}`, {
        index,
        n: lookup.n,
      })
    }
    if (lookup.found === 'not-held') {
      throw apiError(ApiErrorCode.SHARD_NOT_HELD, `this node does not hold shard ${index} of ${blobId}`, { index })
    }
    const { shard } = lookup
    if (prefersOctetStream(request.headers.accept)) {
      return reply
        .type('application/octet-stream')
        .header('x-dacnet-shard-index', String(shard.index))
        .header('x-dacnet-shard-proof', toHex(shard.proof))
        .send(Buffer.from(shard.data.buffer, shard.data.byteOffset, shard.data.byteLength))
    }
    return shardView(shard)
  })
}

function notFound(blobId: BlobId) {
  return apiError(ApiErrorCode.BLOB_NOT_FOUND, `this node holds no shard of ${blobId}`)
}

/** A shard index in decimal, without sign, leading zeros or exponent: 0 .. 65535. */
export function parseShardIndex(text: string): number {
  const index = /^(0|[1-9][0-9]{0,5})$/.test(text) ? Number(text) : Number.NaN
  if (!(index < MAX_TOTAL_SHARDS)) {
    throw apiError(ApiErrorCode.INVALID_SHARD_INDEX, `shard index must be an integer in 0..${MAX_TOTAL_SHARDS - 1}`)
  }
  return index
}

/** The kept certificate's JSON form; one that no longer decodes is left out (and logged), not fatal. */
function certificateJsonOf(bytes: Uint8Array | undefined, ctx: ApiContext, blobId: BlobId): CertificateJson | null {
  if (bytes === undefined) return null
  try {
    return certificateToJson(decodeCertificate(bytes))
  } catch (err) {
    ctx.logger.warn('a kept certificate does not decode', { blobId: blobId.toString(), error: err })
    return null
  }
}
