/** Protocol ids and the gossip topic: the names a second implementation must use. */
export const STORE_PROTOCOL = '/dacnet/store/1.0.0'
export const SAMPLE_PROTOCOL = '/dacnet/sample/1.0.0'
/** The sample protocol with several requests on one stream, one after another: what dacnet's light client asks. */
export const SAMPLE_SESSION_PROTOCOL = '/dacnet/sample/2.0.0'
export const RETRIEVE_PROTOCOL = '/dacnet/retrieve/1.0.0'
/** kad-dht under a private protocol id, so dacnet's DHT never mixes with the public IPFS one. */
export const DHT_PROTOCOL = '/dacnet/kad/1.0.0'
/** Gossipsub topic carrying certificates (their canonical binary layout). */
export const CERTIFICATE_TOPIC = '/dacnet/certificates/1'
