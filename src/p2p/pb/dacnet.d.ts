import type { Codec, DecodeOptions } from 'protons-runtime';
import type { Uint8ArrayList } from 'uint8arraylist';
export interface Shard {
    index: number;
    data: Uint8Array;
    proof: Uint8Array;
}
export declare namespace Shard {
    const codec: () => Codec<Shard>;
    interface ShardIndexFieldEvent {
        field: '$.index';
        value: number;
    }
    interface ShardDataFieldEvent {
        field: '$.data';
        value: Uint8Array;
    }
    interface ShardProofFieldEvent {
        field: '$.proof';
        value: Uint8Array;
    }
    function encode(obj: Partial<Shard>): Uint8Array;
    function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Shard>): Shard;
    function stream(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Shard>): Generator<ShardIndexFieldEvent | ShardDataFieldEvent | ShardProofFieldEvent>;
}
export interface StoreRequest {
    header: Uint8Array;
    shardCount: number;
}
export declare namespace StoreRequest {
    const codec: () => Codec<StoreRequest>;
    interface StoreRequestHeaderFieldEvent {
        field: '$.header';
        value: Uint8Array;
    }
    interface StoreRequestShardCountFieldEvent {
        field: '$.shardCount';
        value: number;
    }
    function encode(obj: Partial<StoreRequest>): Uint8Array;
    function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StoreRequest>): StoreRequest;
    function stream(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StoreRequest>): Generator<StoreRequestHeaderFieldEvent | StoreRequestShardCountFieldEvent>;
}
export interface StoreResponse {
    errorCode: string;
    errorMessage: string;
    signature: Uint8Array;
}
export declare namespace StoreResponse {
    const codec: () => Codec<StoreResponse>;
    interface StoreResponseErrorCodeFieldEvent {
        field: '$.errorCode';
        value: string;
    }
    interface StoreResponseErrorMessageFieldEvent {
        field: '$.errorMessage';
        value: string;
    }
    interface StoreResponseSignatureFieldEvent {
        field: '$.signature';
        value: Uint8Array;
    }
    function encode(obj: Partial<StoreResponse>): Uint8Array;
    function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StoreResponse>): StoreResponse;
    function stream(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StoreResponse>): Generator<StoreResponseErrorCodeFieldEvent | StoreResponseErrorMessageFieldEvent | StoreResponseSignatureFieldEvent>;
}
export interface SampleRequest {
    blobId: Uint8Array;
    indices: number[];
}
export declare namespace SampleRequest {
    const codec: () => Codec<SampleRequest>;
    interface SampleRequestBlobIdFieldEvent {
        field: '$.blobId';
        value: Uint8Array;
    }
    interface SampleRequestIndicesFieldEvent {
        field: '$.indices[]';
        index: number;
        value: number;
    }
    function encode(obj: Partial<SampleRequest>): Uint8Array;
    function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SampleRequest>): SampleRequest;
    function stream(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SampleRequest>): Generator<SampleRequestBlobIdFieldEvent | SampleRequestIndicesFieldEvent>;
}
export interface RetrieveRequest {
    blobId: Uint8Array;
    fromIndex: number;
    toIndex: number;
}
export declare namespace RetrieveRequest {
    const codec: () => Codec<RetrieveRequest>;
    interface RetrieveRequestBlobIdFieldEvent {
        field: '$.blobId';
        value: Uint8Array;
    }
    interface RetrieveRequestFromIndexFieldEvent {
        field: '$.fromIndex';
        value: number;
    }
    interface RetrieveRequestToIndexFieldEvent {
        field: '$.toIndex';
        value: number;
    }
    function encode(obj: Partial<RetrieveRequest>): Uint8Array;
    function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RetrieveRequest>): RetrieveRequest;
    function stream(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RetrieveRequest>): Generator<RetrieveRequestBlobIdFieldEvent | RetrieveRequestFromIndexFieldEvent | RetrieveRequestToIndexFieldEvent>;
}
export declare enum ReplyKind {
    SHARD = "SHARD",
    NOT_HELD = "NOT_HELD",
    HEADER = "HEADER",
    END = "END",
    ERROR = "ERROR"
}
export declare namespace ReplyKind {
    const codec: () => Codec<ReplyKind>;
}
export interface Reply {
    kind: ReplyKind;
    shard?: Shard;
    index: number;
    header: Uint8Array;
    count: number;
    errorCode: string;
    errorMessage: string;
}
export declare namespace Reply {
    const codec: () => Codec<Reply>;
    interface ReplyKindFieldEvent {
        field: '$.kind';
        value: ReplyKind;
    }
    interface ReplyShardIndexFieldEvent {
        field: '$.shard.index';
        value: number;
    }
    interface ReplyShardDataFieldEvent {
        field: '$.shard.data';
        value: Uint8Array;
    }
    interface ReplyShardProofFieldEvent {
        field: '$.shard.proof';
        value: Uint8Array;
    }
    interface ReplyIndexFieldEvent {
        field: '$.index';
        value: number;
    }
    interface ReplyHeaderFieldEvent {
        field: '$.header';
        value: Uint8Array;
    }
    interface ReplyCountFieldEvent {
        field: '$.count';
        value: number;
    }
    interface ReplyErrorCodeFieldEvent {
        field: '$.errorCode';
        value: string;
    }
    interface ReplyErrorMessageFieldEvent {
        field: '$.errorMessage';
        value: string;
    }
    function encode(obj: Partial<Reply>): Uint8Array;
    function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reply>): Reply;
    function stream(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reply>): Generator<ReplyKindFieldEvent | ReplyShardIndexFieldEvent | ReplyShardDataFieldEvent | ReplyShardProofFieldEvent | ReplyIndexFieldEvent | ReplyHeaderFieldEvent | ReplyCountFieldEvent | ReplyErrorCodeFieldEvent | ReplyErrorMessageFieldEvent>;
}
