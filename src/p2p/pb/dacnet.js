import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime';
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc';
export var Shard;
(function (Shard) {
    let _codec;
    Shard.codec = () => {
        if (_codec == null) {
            _codec = message((obj, w, opts = {}) => {
                if (opts.lengthDelimited !== false) {
                    w.fork();
                }
                if ((obj.index != null && obj.index !== 0)) {
                    w.uint32(8);
                    w.uint32(obj.index);
                }
                if ((obj.data != null && obj.data.byteLength > 0)) {
                    w.uint32(18);
                    w.bytes(obj.data);
                }
                if ((obj.proof != null && obj.proof.byteLength > 0)) {
                    w.uint32(26);
                    w.bytes(obj.proof);
                }
                if (opts.lengthDelimited !== false) {
                    w.ldelim();
                }
            }, (reader, length, opts = {}) => {
                const obj = {
                    index: 0,
                    data: uint8ArrayAlloc(0),
                    proof: uint8ArrayAlloc(0)
                };
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            obj.index = reader.uint32();
                            break;
                        }
                        case 2: {
                            obj.data = reader.bytes();
                            break;
                        }
                        case 3: {
                            obj.proof = reader.bytes();
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
                return obj;
            }, function* (reader, length, prefix, opts = {}) {
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            yield {
                                field: `${prefix}.index`,
                                value: reader.uint32()
                            };
                            break;
                        }
                        case 2: {
                            yield {
                                field: `${prefix}.data`,
                                value: reader.bytes()
                            };
                            break;
                        }
                        case 3: {
                            yield {
                                field: `${prefix}.proof`,
                                value: reader.bytes()
                            };
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
            });
        }
        return _codec;
    };
    function encode(obj) {
        return encodeMessage(obj, Shard.codec());
    }
    Shard.encode = encode;
    function decode(buf, opts) {
        return decodeMessage(buf, Shard.codec(), opts);
    }
    Shard.decode = decode;
    function stream(buf, opts) {
        return streamMessage(buf, Shard.codec(), opts);
    }
    Shard.stream = stream;
})(Shard || (Shard = {}));
export var StoreRequest;
(function (StoreRequest) {
    let _codec;
    StoreRequest.codec = () => {
        if (_codec == null) {
            _codec = message((obj, w, opts = {}) => {
                if (opts.lengthDelimited !== false) {
                    w.fork();
                }
                if ((obj.header != null && obj.header.byteLength > 0)) {
                    w.uint32(10);
                    w.bytes(obj.header);
                }
                if ((obj.shardCount != null && obj.shardCount !== 0)) {
                    w.uint32(16);
                    w.uint32(obj.shardCount);
                }
                if (opts.lengthDelimited !== false) {
                    w.ldelim();
                }
            }, (reader, length, opts = {}) => {
                const obj = {
                    header: uint8ArrayAlloc(0),
                    shardCount: 0
                };
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            obj.header = reader.bytes();
                            break;
                        }
                        case 2: {
                            obj.shardCount = reader.uint32();
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
                return obj;
            }, function* (reader, length, prefix, opts = {}) {
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            yield {
                                field: `${prefix}.header`,
                                value: reader.bytes()
                            };
                            break;
                        }
                        case 2: {
                            yield {
                                field: `${prefix}.shardCount`,
                                value: reader.uint32()
                            };
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
            });
        }
        return _codec;
    };
    function encode(obj) {
        return encodeMessage(obj, StoreRequest.codec());
    }
    StoreRequest.encode = encode;
    function decode(buf, opts) {
        return decodeMessage(buf, StoreRequest.codec(), opts);
    }
    StoreRequest.decode = decode;
    function stream(buf, opts) {
        return streamMessage(buf, StoreRequest.codec(), opts);
    }
    StoreRequest.stream = stream;
})(StoreRequest || (StoreRequest = {}));
export var StoreResponse;
(function (StoreResponse) {
    let _codec;
    StoreResponse.codec = () => {
        if (_codec == null) {
            _codec = message((obj, w, opts = {}) => {
                if (opts.lengthDelimited !== false) {
                    w.fork();
                }
                if ((obj.errorCode != null && obj.errorCode !== '')) {
                    w.uint32(10);
                    w.string(obj.errorCode);
                }
                if ((obj.errorMessage != null && obj.errorMessage !== '')) {
                    w.uint32(18);
                    w.string(obj.errorMessage);
                }
                if ((obj.signature != null && obj.signature.byteLength > 0)) {
                    w.uint32(26);
                    w.bytes(obj.signature);
                }
                if (opts.lengthDelimited !== false) {
                    w.ldelim();
                }
            }, (reader, length, opts = {}) => {
                const obj = {
                    errorCode: '',
                    errorMessage: '',
                    signature: uint8ArrayAlloc(0)
                };
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            obj.errorCode = reader.string();
                            break;
                        }
                        case 2: {
                            obj.errorMessage = reader.string();
                            break;
                        }
                        case 3: {
                            obj.signature = reader.bytes();
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
                return obj;
            }, function* (reader, length, prefix, opts = {}) {
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            yield {
                                field: `${prefix}.errorCode`,
                                value: reader.string()
                            };
                            break;
                        }
                        case 2: {
                            yield {
                                field: `${prefix}.errorMessage`,
                                value: reader.string()
                            };
                            break;
                        }
                        case 3: {
                            yield {
                                field: `${prefix}.signature`,
                                value: reader.bytes()
                            };
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
            });
        }
        return _codec;
    };
    function encode(obj) {
        return encodeMessage(obj, StoreResponse.codec());
    }
    StoreResponse.encode = encode;
    function decode(buf, opts) {
        return decodeMessage(buf, StoreResponse.codec(), opts);
    }
    StoreResponse.decode = decode;
    function stream(buf, opts) {
        return streamMessage(buf, StoreResponse.codec(), opts);
    }
    StoreResponse.stream = stream;
})(StoreResponse || (StoreResponse = {}));
export var SampleRequest;
(function (SampleRequest) {
    let _codec;
    SampleRequest.codec = () => {
        if (_codec == null) {
            _codec = message((obj, w, opts = {}) => {
                if (opts.lengthDelimited !== false) {
                    w.fork();
                }
                if ((obj.blobId != null && obj.blobId.byteLength > 0)) {
                    w.uint32(10);
                    w.bytes(obj.blobId);
                }
                if (obj.indices != null && obj.indices.length > 0) {
                    for (const value of obj.indices) {
                        w.uint32(16);
                        w.uint32(value);
                    }
                }
                if (opts.lengthDelimited !== false) {
                    w.ldelim();
                }
            }, (reader, length, opts = {}) => {
                const obj = {
                    blobId: uint8ArrayAlloc(0),
                    indices: []
                };
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            obj.blobId = reader.bytes();
                            break;
                        }
                        case 2: {
                            if (opts.limits?.indices != null && obj.indices.length === opts.limits.indices) {
                                throw new MaxLengthError('Decode error - repeated field "indices" had too many elements');
                            }
                            obj.indices.push(reader.uint32());
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
                return obj;
            }, function* (reader, length, prefix, opts = {}) {
                const obj = {
                    indices: 0
                };
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            yield {
                                field: `${prefix}.blobId`,
                                value: reader.bytes()
                            };
                            break;
                        }
                        case 2: {
                            if (opts.limits?.indices != null && obj.indices === opts.limits.indices) {
                                throw new MaxLengthError('Streaming decode error - repeated field "indices" had too many elements');
                            }
                            yield {
                                field: `${prefix}.indices[]`,
                                index: obj.indices,
                                value: reader.uint32()
                            };
                            obj.indices++;
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
            });
        }
        return _codec;
    };
    function encode(obj) {
        return encodeMessage(obj, SampleRequest.codec());
    }
    SampleRequest.encode = encode;
    function decode(buf, opts) {
        return decodeMessage(buf, SampleRequest.codec(), opts);
    }
    SampleRequest.decode = decode;
    function stream(buf, opts) {
        return streamMessage(buf, SampleRequest.codec(), opts);
    }
    SampleRequest.stream = stream;
})(SampleRequest || (SampleRequest = {}));
export var RetrieveRequest;
(function (RetrieveRequest) {
    let _codec;
    RetrieveRequest.codec = () => {
        if (_codec == null) {
            _codec = message((obj, w, opts = {}) => {
                if (opts.lengthDelimited !== false) {
                    w.fork();
                }
                if ((obj.blobId != null && obj.blobId.byteLength > 0)) {
                    w.uint32(10);
                    w.bytes(obj.blobId);
                }
                if ((obj.fromIndex != null && obj.fromIndex !== 0)) {
                    w.uint32(16);
                    w.uint32(obj.fromIndex);
                }
                if ((obj.toIndex != null && obj.toIndex !== 0)) {
                    w.uint32(24);
                    w.uint32(obj.toIndex);
                }
                if (opts.lengthDelimited !== false) {
                    w.ldelim();
                }
            }, (reader, length, opts = {}) => {
                const obj = {
                    blobId: uint8ArrayAlloc(0),
                    fromIndex: 0,
                    toIndex: 0
                };
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            obj.blobId = reader.bytes();
                            break;
                        }
                        case 2: {
                            obj.fromIndex = reader.uint32();
                            break;
                        }
                        case 3: {
                            obj.toIndex = reader.uint32();
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
                return obj;
            }, function* (reader, length, prefix, opts = {}) {
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            yield {
                                field: `${prefix}.blobId`,
                                value: reader.bytes()
                            };
                            break;
                        }
                        case 2: {
                            yield {
                                field: `${prefix}.fromIndex`,
                                value: reader.uint32()
                            };
                            break;
                        }
                        case 3: {
                            yield {
                                field: `${prefix}.toIndex`,
                                value: reader.uint32()
                            };
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
            });
        }
        return _codec;
    };
    function encode(obj) {
        return encodeMessage(obj, RetrieveRequest.codec());
    }
    RetrieveRequest.encode = encode;
    function decode(buf, opts) {
        return decodeMessage(buf, RetrieveRequest.codec(), opts);
    }
    RetrieveRequest.decode = decode;
    function stream(buf, opts) {
        return streamMessage(buf, RetrieveRequest.codec(), opts);
    }
    RetrieveRequest.stream = stream;
})(RetrieveRequest || (RetrieveRequest = {}));
export var ReplyKind;
(function (ReplyKind) {
    ReplyKind["SHARD"] = "SHARD";
    ReplyKind["NOT_HELD"] = "NOT_HELD";
    ReplyKind["HEADER"] = "HEADER";
    ReplyKind["END"] = "END";
    ReplyKind["ERROR"] = "ERROR";
})(ReplyKind || (ReplyKind = {}));
var __ReplyKindValues;
(function (__ReplyKindValues) {
    __ReplyKindValues[__ReplyKindValues["SHARD"] = 0] = "SHARD";
    __ReplyKindValues[__ReplyKindValues["NOT_HELD"] = 1] = "NOT_HELD";
    __ReplyKindValues[__ReplyKindValues["HEADER"] = 2] = "HEADER";
    __ReplyKindValues[__ReplyKindValues["END"] = 3] = "END";
    __ReplyKindValues[__ReplyKindValues["ERROR"] = 4] = "ERROR";
})(__ReplyKindValues || (__ReplyKindValues = {}));
(function (ReplyKind) {
    ReplyKind.codec = () => {
        return enumeration(__ReplyKindValues);
    };
})(ReplyKind || (ReplyKind = {}));
export var Reply;
(function (Reply) {
    let _codec;
    Reply.codec = () => {
        if (_codec == null) {
            _codec = message((obj, w, opts = {}) => {
                if (opts.lengthDelimited !== false) {
                    w.fork();
                }
                if (obj.kind != null && __ReplyKindValues[obj.kind] !== 0) {
                    w.uint32(8);
                    ReplyKind.codec().encode(obj.kind, w);
                }
                if (obj.shard != null) {
                    w.uint32(18);
                    Shard.codec().encode(obj.shard, w);
                }
                if ((obj.index != null && obj.index !== 0)) {
                    w.uint32(24);
                    w.uint32(obj.index);
                }
                if ((obj.header != null && obj.header.byteLength > 0)) {
                    w.uint32(34);
                    w.bytes(obj.header);
                }
                if ((obj.count != null && obj.count !== 0)) {
                    w.uint32(40);
                    w.uint32(obj.count);
                }
                if ((obj.errorCode != null && obj.errorCode !== '')) {
                    w.uint32(50);
                    w.string(obj.errorCode);
                }
                if ((obj.errorMessage != null && obj.errorMessage !== '')) {
                    w.uint32(58);
                    w.string(obj.errorMessage);
                }
                if (opts.lengthDelimited !== false) {
                    w.ldelim();
                }
            }, (reader, length, opts = {}) => {
                const obj = {
                    kind: ReplyKind.SHARD,
                    index: 0,
                    header: uint8ArrayAlloc(0),
                    count: 0,
                    errorCode: '',
                    errorMessage: ''
                };
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            obj.kind = ReplyKind.codec().decode(reader);
                            break;
                        }
                        case 2: {
                            obj.shard = Shard.codec().decode(reader, reader.uint32(), {
                                limits: opts.limits?.shard
                            });
                            break;
                        }
                        case 3: {
                            obj.index = reader.uint32();
                            break;
                        }
                        case 4: {
                            obj.header = reader.bytes();
                            break;
                        }
                        case 5: {
                            obj.count = reader.uint32();
                            break;
                        }
                        case 6: {
                            obj.errorCode = reader.string();
                            break;
                        }
                        case 7: {
                            obj.errorMessage = reader.string();
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
                return obj;
            }, function* (reader, length, prefix, opts = {}) {
                const end = length == null ? reader.len : reader.pos + length;
                while (reader.pos < end) {
                    const tag = reader.uint32();
                    switch (tag >>> 3) {
                        case 1: {
                            yield {
                                field: `${prefix}.kind`,
                                value: ReplyKind.codec().decode(reader)
                            };
                            break;
                        }
                        case 2: {
                            yield* Shard.codec().stream(reader, reader.uint32(), `${prefix}.shard`, {
                                limits: opts.limits?.shard
                            });
                            break;
                        }
                        case 3: {
                            yield {
                                field: `${prefix}.index`,
                                value: reader.uint32()
                            };
                            break;
                        }
                        case 4: {
                            yield {
                                field: `${prefix}.header`,
                                value: reader.bytes()
                            };
                            break;
                        }
                        case 5: {
                            yield {
                                field: `${prefix}.count`,
                                value: reader.uint32()
                            };
                            break;
                        }
                        case 6: {
                            yield {
                                field: `${prefix}.errorCode`,
                                value: reader.string()
                            };
                            break;
                        }
                        case 7: {
                            yield {
                                field: `${prefix}.errorMessage`,
                                value: reader.string()
                            };
                            break;
                        }
                        default: {
                            reader.skipType(tag & 7);
                            break;
                        }
                    }
                }
            });
        }
        return _codec;
    };
    function encode(obj) {
        return encodeMessage(obj, Reply.codec());
    }
    Reply.encode = encode;
    function decode(buf, opts) {
        return decodeMessage(buf, Reply.codec(), opts);
    }
    Reply.decode = decode;
    function stream(buf, opts) {
        return streamMessage(buf, Reply.codec(), opts);
    }
    Reply.stream = stream;
})(Reply || (Reply = {}));
