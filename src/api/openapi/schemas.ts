import type { JsonSchema } from './types.ts'

/**
 * The response bodies of the API (JSON Schema 2020-12). Conventions: bytes are 0x-prefixed lower-case hex,
 * as in the committee file; integers below 2^53 are JSON numbers; stakes (up to u256) are decimal strings;
 * times are ISO 8601 in UTC. Objects are closed (`additionalProperties: false`): the tests validate real
 * responses against these schemas, so a field added to the code without the document fails them.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const uint = { type: 'integer', minimum: 0 } as const
const isoTime = { type: 'string', format: 'date-time' } as const
const closed = (properties: Record<string, unknown>, description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
})

/** Error codes with a status of their own. Any other NODE_* or P2P_* code is answered with 502, the rest 500. */
const ERROR_STATUS = {
  API_BAD_REQUEST: 400,
  API_INVALID_SHARD_INDEX: 400,
  ERASURE_INVALID_BLOB_ID: 400,
  API_UNAUTHORIZED: 401,
  API_DISPERSE_DISABLED: 403,
  API_BLOB_NOT_FOUND: 404,
  API_SHARD_NOT_HELD: 404,
  API_ROUTE_NOT_FOUND: 404,
  API_PAYLOAD_TOO_LARGE: 413,
  ERASURE_BLOB_TOO_LARGE: 413,
  API_UNSUPPORTED_MEDIA_TYPE: 415,
  API_HOST_NOT_ALLOWED: 421,
  NODE_RATE_LIMITED: 429,
  API_INTERNAL: 500,
  STORAGE_CORRUPT_ENTRY: 500,
  API_BUSY: 503,
  API_NODE_NOT_RUNNING: 503,
  API_CLOSING: 503,
  NODE_THRESHOLD_UNREACHABLE: 503,
  NODE_ABORTED: 503,
  COMMITTEE_UNKNOWN_EPOCH: 503,
  STORAGE_CLOSED: 503,
  STORAGE_BUSY: 503,
  NODE_BUSY: 503,
  API_TIMEOUT: 504,
} as const

export const SCHEMAS = {
  Hex: {
    type: 'string',
    pattern: '^0x([0-9a-f]{2})*$',
    description: 'Bytes as lower-case hex with a 0x prefix (the committee file uses the same form).',
    examples: ['0x01ff'],
  },
  BlobId: {
    type: 'string',
    pattern: '^bafkrei[a-z2-7]{52}$',
    description: 'CIDv1 (raw, sha2-256) of the 65-byte blob header, base32 (docs/PROTOCOL.md section 1.5).',
    examples: ['bafkreibyayfdnsnyf6iff3knsna42apx23ertxoqadjzynqqmkpmz2ilaa'],
  },
  Stake: { type: 'string', pattern: '^[0-9]{1,78}$', description: 'A stake amount (u256) in decimal.' },
  ErrorCode: {
    description:
      'A stable dacnet error code; clients match on it, never on the message. `x-dacnet-status` maps every ' +
      'code with a status of its own to it; any other NODE_* or P2P_* code (a committee member failed) is ' +
      'answered with 502, anything else with 500.',
    anyOf: [
      { type: 'string', enum: Object.keys(ERROR_STATUS) },
      { type: 'string', pattern: '^(NODE|P2P|STORAGE|COMMITTEE|ERASURE|ATTEST)_[A-Z0-9_]+$' },
    ],
    'x-dacnet-status': ERROR_STATUS,
  },
  Error: closed(
    {
      error: closed({ code: ref('ErrorCode'), message: { type: 'string', maxLength: 1024 } }, 'What went wrong.'),
    },
    'The body of every error response.',
  ),
  Health: {
    type: 'object',
    description: 'The node is running. `chain` is there when the node reads its committees from the chain.',
    additionalProperties: false,
    required: ['status'],
    properties: { status: { const: 'ok' }, chain: ref('ChainStatus') },
  },
  ChainStatus: closed(
    {
      state: {
        enum: ['starting', 'synced', 'stale'],
        description:
          'starting: never read yet; stale: reads have failed for over 3 polls (the committees known stay in use)',
      },
      safeBlock: {
        anyOf: [uint, { type: 'null' }],
        description: 'The last block read: the head minus the confirmation depth.',
      },
      epoch: { anyOf: [uint, { type: 'null' }], description: 'The epoch in force at that block.' },
      lastSyncAt: { anyOf: [isoTime, { type: 'null' }] },
      lastError: {
        anyOf: [{ type: 'string' }, { type: 'null' }],
        description: 'The code of the last failed read since then.',
      },
      deepReorgs: { ...uint, description: 'Reorgs deeper than the confirmation depth found since start.' },
      registryRereads: {
        ...uint,
        description:
          'Times the registry was read again from its deployment since start, because the events read block by block did not match its records (a log the RPC left out).',
      },
    },
    "How current the node's view of the chain is.",
  ),
  Header: closed(
    {
      version: { const: 1 },
      networkId: { ...uint, maximum: 4294967295 },
      epoch: uint,
      dataSize: { ...uint, description: 'Exact blob size in bytes.' },
      k: { type: 'integer', minimum: 1, maximum: 65535, description: 'Original shards.' },
      n: { type: 'integer', minimum: 2, maximum: 65536, description: 'All shards, originals first.' },
      shardSize: { ...uint, description: 'Bytes per shard, a multiple of 64.' },
      root: { ...ref('Hex'), description: 'SHA-256 Merkle root over the n shards (32 bytes).' },
    },
    'The blob header fields (docs/PROTOCOL.md section 1.4).',
  ),
  Certificate: closed(
    {
      version: { const: 1 },
      epoch: uint,
      blobId: ref('BlobId'),
      header: { ...ref('Hex'), description: 'The 65 canonical header bytes.' },
      memberCount: { type: 'integer', minimum: 1 },
      signers: { ...ref('Hex'), description: 'Signer bitmap: member i is bit (i mod 8) of byte floor(i / 8).' },
      signedStake: ref('Stake'),
      signature: { ...ref('Hex'), description: 'Aggregate BLS12-381 signature (96 bytes, compressed G2).' },
    },
    'A certificate in its JSON form (the same as `dacnet` writes to files); `verifyCertificate` checks it.',
  ),
  Blob: closed(
    {
      blobId: ref('BlobId'),
      header: ref('Header'),
      headerBytes: { ...ref('Hex'), description: 'The 65 canonical header bytes.' },
      heldShards: { type: 'array', items: uint, description: 'Indices of the shards this node holds, ascending.' },
      storedAt: isoTime,
      expiresAt: { ...isoTime, description: 'When retention ends and the node prunes the blob.' },
      attested: { type: 'boolean', description: 'This node signed an attestation for the blob.' },
      certificate: {
        description: 'The certificate this node kept from gossip, or null if it has none.',
        oneOf: [ref('Certificate'), { type: 'null' }],
      },
    },
    'What this node holds of a blob.',
  ),
  Shard: closed(
    {
      index: uint,
      data: { ...ref('Hex'), description: 'The shard bytes (shardSize of them).' },
      proof: { ...ref('Hex'), description: 'Merkle proof: sibling hashes bottom-up (docs/PROTOCOL.md section 1.3).' },
    },
    'One shard with its Merkle proof against the header root.',
  ),
  MemberFailure: closed(
    {
      member: uint,
      peerId: { type: 'string' },
      stake: ref('Stake'),
      code: ref('ErrorCode'),
      message: { type: 'string' },
    },
    'A committee member that failed (after one retry) during a dispersal.',
  ),
  Dispersal: closed(
    {
      blobId: ref('BlobId'),
      header: ref('Header'),
      certificate: ref('Certificate'),
      signers: { type: 'array', items: uint, description: 'Member indices in the certificate.' },
      signedStake: ref('Stake'),
      totalStake: { oneOf: [ref('Stake'), { type: 'null' }], description: "The epoch's total stake." },
      failures: { type: 'array', items: ref('MemberFailure') },
      timings: closed(
        {
          receiveMs: { type: 'number', description: 'Receiving the body.' },
          encodeMs: { type: 'number', description: 'Erasure coding and the Merkle commitment.' },
          certifyMs: { type: 'number', description: 'From the first store sent to the certificate.' },
          totalMs: { type: 'number', description: 'The whole request.' },
        },
        'Milliseconds.',
      ),
    },
    'A certified blob.',
  ),
  Status: closed(
    {
      version: { type: 'string', description: 'dacnet version.' },
      peerId: { type: 'string' },
      addresses: { type: 'array', items: { type: 'string' }, description: 'libp2p listen multiaddrs.' },
      running: { type: 'boolean' },
      peers: { ...uint, description: 'Peers with an open connection.' },
      storage: closed(
        {
          blobs: uint,
          shards: uint,
          bytes: { ...uint, description: 'Logical bytes held: what the quota bounds.' },
          quotaBytes: uint,
          diskBytes: {
            oneOf: [uint, { type: 'null' }],
            description: 'Bytes the store directory takes on disk (measured at most every 15 s); null if unreadable.',
          },
          quarantined: { ...uint, description: 'Corrupt entries in quarantine.' },
          corruptDetected: { ...uint, description: 'Corrupt entries ever detected.' },
          pendingWrites: uint,
          prune: closed(
            {
              running: { type: 'boolean' },
              lastRunAt: { oneOf: [isoTime, { type: 'null' }] },
              blobsPruned: { ...uint, description: 'Since the node started.' },
              entriesDeleted: { ...uint, description: 'Since the node started.' },
              lastError: { oneOf: [{ type: 'string' }, { type: 'null' }], description: 'Of the last failed run.' },
            },
            'Retention pruning.',
          ),
        },
        'The shard store.',
      ),
      served: {
        type: 'object',
        description:
          'Inbound exchanges answered in full since start, by protocol. Refused and cancelled ones are not in it.',
        required: ['store', 'sample', 'retrieve'],
        additionalProperties: uint,
        properties: { store: uint, sample: uint, retrieve: uint },
      },
      samplesServed: { ...uint, description: 'Sample exchanges answered in full since start.' },
      refused: {
        type: 'object',
        description:
          'Inbound stores, samples and retrievals refused or failed since start, by error code (e.g. ' +
          'NODE_UNREGISTERED_SEQUENCER, NODE_HEADER_MISMATCH, P2P_RATE_LIMITED, P2P_TIMEOUT), most frequent first.',
        propertyNames: { pattern: '^[A-Z][A-Z0-9_]{2,63}$' },
        additionalProperties: uint,
      },
      cancelled: {
        type: 'object',
        description:
          'Samples and retrievals whose client stopped reading mid-answer, by protocol: a retriever that had k ' +
          'shards, a light client answered by another holder. Normal traffic, not errors.',
        required: ['sample', 'retrieve'],
        additionalProperties: uint,
        properties: { sample: uint, retrieve: uint },
      },
      recentErrors: {
        type: 'array',
        description: 'The last 20 problems that did not stop the node, oldest first.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['time', 'message'],
          // Not only dacnet codes: a failed bootstrap dial carries whatever code libp2p gave it.
          properties: { time: isoTime, message: { type: 'string' }, code: { type: 'string' } },
        },
      },
      providerRecordsPending: {
        ...uint,
        description:
          'DHT provider records of stored blobs not published yet: they wait until no store has begun or ended for ' +
          '2 s (60 s at most), then go out two at a time.',
      },
      disperseEnabled: { type: 'boolean', description: 'POST /v1/blobs is served.' },
    },
    "The node's state.",
  ),
} satisfies Record<string, JsonSchema>
