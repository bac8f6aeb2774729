import { TopicValidatorResult } from '@libp2p/gossipsub'
import { MAX_CERTIFICATE_SIZE } from '../attest/certificate-codec.ts'
import { P2pErrorCode, p2pError } from './errors.ts'
import type { DacnetLibp2p } from './node.ts'
import { CERTIFICATE_TOPIC } from './protocols.ts'

/**
 * How a node judges a gossiped certificate: 'accept' forwards it, 'reject' drops it and costs the peer that
 * sent it (gossipsub scoring), 'ignore' drops it without blame (e.g. an epoch this node does not know yet).
 */
export type CertificateVerdict = 'accept' | 'reject' | 'ignore'

export interface CertificateGossipHooks {
  validate(bytes: Uint8Array): CertificateVerdict | Promise<CertificateVerdict>
  /** Called once per accepted certificate. */
  onCertificate?(bytes: Uint8Array): void
}

/**
 * Joins the certificate topic: every message is validated before it is delivered or forwarded.
 * Returns a function that leaves the topic.
 */
export function joinCertificateGossip(libp2p: DacnetLibp2p, hooks: CertificateGossipHooks): () => void {
  const pubsub = libp2p.services.pubsub
  if (pubsub === undefined) {
    throw p2pError(
      P2pErrorCode.NO_GOSSIP,
      'this libp2p node was created without gossip: it cannot join the certificate topic',
    )
  }
  pubsub.topicValidators.set(CERTIFICATE_TOPIC, async (_source, message) => {
    if (message.data.length > MAX_CERTIFICATE_SIZE) return TopicValidatorResult.Reject
    try {
      const verdict = await hooks.validate(message.data)
      return verdict === 'accept'
        ? TopicValidatorResult.Accept
        : verdict === 'ignore'
          ? TopicValidatorResult.Ignore
          : TopicValidatorResult.Reject
    } catch {
      return TopicValidatorResult.Reject
    }
  })
  const onMessage = (evt: CustomEvent<{ topic: string; data: Uint8Array }>) => {
    if (evt.detail.topic === CERTIFICATE_TOPIC) hooks.onCertificate?.(evt.detail.data)
  }
  pubsub.addEventListener('message', onMessage)
  pubsub.subscribe(CERTIFICATE_TOPIC)
  return () => {
    pubsub.unsubscribe(CERTIFICATE_TOPIC)
    pubsub.removeEventListener('message', onMessage)
    pubsub.topicValidators.delete(CERTIFICATE_TOPIC)
  }
}

/**
 * Publishes a certificate's canonical bytes; resolves with how many peers it went to: none from a node created
 * without gossip.
 */
export async function publishCertificate(libp2p: DacnetLibp2p, bytes: Uint8Array): Promise<number> {
  const pubsub = libp2p.services.pubsub
  if (pubsub === undefined) return 0
  const result = await pubsub.publish(CERTIFICATE_TOPIC, bytes)
  return result.recipients.length
}
