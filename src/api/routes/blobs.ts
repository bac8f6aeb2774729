import type { FastifyInstance } from 'fastify'
import { type CertificateJson, certificateToJson, decodeCertificate } from '../../attest/certificate-codec.ts'
import { toHex } from '../../committee/hex.ts'
import { type BlobId, parseBlobId } from '../../erasure/blob-id.ts'
import { MAX_TOTAL_SHARDS } from '../../erasure/params.ts'
import { prefersOctetStream } from '../accept.ts'
import type { ApiContext } from '../context.ts'
import { ApiErrorCode, apiError } from '../errors.ts'
import { blobView, shardView } from '../views.ts'

interface BlobParams {
  id: string
}
interface ShardParams extends BlobParams {
  index: string
}

/** GET /v1/blobs/:id and GET /v1/blobs/:id/shards/:index: what this node holds, read from its store. */
export function registerBlobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx.node

  app.get<{ Params: BlobParams }>('/v1/blobs/:id', async (request) => {
    const blobId = parseBlobId(request.params.id)
    const info = await store.getBlobInfo(blobId)
    if (info === undefined) throw notFound(blobId)
    const [held, attestation, certificate] = await Promise.all([
      store.listShardIndices(blobId),
      store.getAttestation(blobId),
      store.getCertificate(blobId),
    ])
    return blobView(info, held, attestation !== undefined, certificateJsonOf(certificate, ctx, blobId))
  })

  app.get<{ Params: ShardParams }>('/v1/blobs/:id/shards/:index', async (request, reply) => {
    const blobId = parseBlobId(request.params.id)
    const index = parseShardIndex(request.params.index)
    const header = await store.getHeader(blobId)
    if (header === undefined) throw notFound(blobId)
    if (index >= header.n) {
      throw apiError(ApiErrorCode.INVALID_SHARD_INDEX, `shard index ${index} is outside 0..${header.n - 1}`, {
        index,
        n: header.n,
      })
    }
    const shard = await store.getShard(blobId, index)
    if (shard === undefined) {
      throw apiError(ApiErrorCode.SHARD_NOT_HELD, `this node does not hold shard ${index} of ${blobId}`, { index })
    }
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
