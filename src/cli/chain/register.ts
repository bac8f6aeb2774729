import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Address } from 'viem'
import { decryptKeystore, MAX_KEYSTORE_FILE_BYTES } from '../../attest/keystore.ts'
import { operatorStatus, registerMember } from '../../chain/registry-client.ts'
import { MAX_PEER_KEY_FILE_BYTES, parsePeerKey } from '../../p2p/identity.ts'
import { loadNodeConfig } from '../config/load.ts'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError, usageError } from '../errors.ts'
import { readFileChecked, toJson } from '../files.ts'
import { dialableAddresses } from '../operator/member-card.ts'
import { resolvePassword } from '../password.ts'
import { type Amount, toUnits } from './amount.ts'
import type { ChainFile } from './chain-file.ts'
import { chainTargetAt, checkFunds, epochOfBlock, openSession, tokens, writerOf } from './connect.ts'
import { loadEthAccount } from './eth-key.ts'
import { CHAIN_ENV } from './options.ts'
import { withRevertHint } from './reverts.ts'

export interface RegisterOptions {
  config: string
  stake: Amount
  /** chain.json (absolute), from --chain or $DACNET_CHAIN; else the config's chain section. */
  chainPath?: string | undefined
  rpc?: string | undefined
  passwordFile?: string | undefined
  ethKeyFile?: string | undefined
  json: boolean
}

/**
 * `dacnet register`: a node directory joins the registry. Its BLS key (from the keystore) gives the key, y and
 * proof of possession, peer.key the peer id, the config's announce (else dialable listen) addresses the
 * multiaddrs; the Ethereum key's account approves the stake and registers, and owns the stake from then on.
 */
export async function registerNode(ctx: CommandContext, opts: RegisterOptions): Promise<void> {
  // As `dacnet node` reads it: DACNET_* variables over the file, so the member registered is the one that runs.
  const { config, path: configPath } = await loadNodeConfig({
    configFile: opts.config,
    env: ctx.io.env,
    flags: new Map(),
    cwd: ctx.io.cwd,
  })
  const target = await registryTarget(config.chain, opts)
  if (config.chain === null) {
    ctx.note(
      `warning: ${configPath} follows a committee file, not the chain: the node will not serve as a member until its config has a chain section (\`dacnet init --chain FILE\` writes one)`,
    )
  }
  // Files first, then the keys: a missing file is reported before anything is asked for.
  const keystore = await readFileChecked(config.keystore.path, 'keystore', MAX_KEYSTORE_FILE_BYTES)
  const peerKey = parsePeerKey(
    await readFileChecked(config.peerKeyFile, 'peer key', MAX_PEER_KEY_FILE_BYTES),
    config.peerKeyFile,
  )
  const account = await loadEthAccount(ctx.io, opts.ethKeyFile)
  const session = await openSession(target, account)
  const stake = toUnits(opts.stake, session.token.decimals)
  if (stake === 0n) throw usageError('--stake must be above 0')
  const before = await operatorStatus(session.publicClient, session.registry, account.address)
  if (before.registered) {
    throw cliError(
      CliErrorCode.ALREADY_REGISTERED,
      `account ${account.address} is member ${before.index} already, with ${tokens(session, before.stake)}`,
      { account: account.address, index: before.index },
    )
  }
  await checkFunds(session, account.address, stake)
  const password = await resolvePassword(ctx.io, { file: opts.passwordFile ?? config.keystore.passwordFile })
  const secretKey = await decryptKeystore(keystore.toString('utf8'), password)
  const peerId = peerIdFromPrivateKey(peerKey).toString()
  const multiaddrs = dialableAddresses(config.network.listen, config.network.announce, peerId)
  if (multiaddrs.length === 0) {
    ctx.note(
      'warning: the config lists no address others can dial (set network.announce): members will only find this node through the DHT',
    )
  }
  ctx.note(`approving ${tokens(session, stake)} to the registry and registering ${peerId} from ${account.address}`)
  const { hash, block } = await registerMember(writerOf(session, account), {
    secretKey,
    peerId,
    multiaddrs,
    stake,
  }).catch((err: unknown) => {
    throw withRevertHint(err)
  })
  const after = await operatorStatus(session.publicClient, session.registry, account.address)
  const servesFrom = epochOfBlock(session.constants, block) + 1n
  const result = {
    operator: account.address,
    index: after.index,
    stake,
    peerId,
    multiaddrs,
    registry: session.registry,
    transaction: hash,
    block,
    servesFromEpoch: servesFrom,
  }
  if (opts.json) ctx.io.out(`${toJson(result)}\n`)
  else {
    ctx.io.out(
      `registered ${peerId} as member ${after.index} with ${tokens(session, stake)} (account ${account.address}, block ${block}); serves from epoch ${servesFrom}\n`,
    )
  }
}

/**
 * The registry to join: chain.json when one is named (it must be the registry the config follows, if it follows
 * one), else the config's chain section.
 */
async function registryTarget(
  chain: { rpcUrl: string; registry: string } | null,
  opts: RegisterOptions,
): Promise<{ rpcUrl: string; registry: Address; file?: ChainFile }> {
  if (opts.chainPath !== undefined) {
    const target = await chainTargetAt(opts.chainPath, opts.rpc)
    if (chain !== null && chain.registry.toLowerCase() !== target.file.registry.toLowerCase()) {
      throw cliError(
        CliErrorCode.CHAIN_MISMATCH,
        `the node's config follows the registry ${chain.registry}, but ${opts.chainPath} names ${target.file.registry}`,
        { hint: "pass the node's own chain.json, or leave --chain out to use the config's chain section" },
      )
    }
    return { rpcUrl: target.rpcUrl, registry: target.file.registry, file: target.file }
  }
  if (chain === null) {
    throw usageError(
      `no chain to register on: pass --chain FILE or set ${CHAIN_ENV}, or give the node a chain section (\`dacnet init --chain FILE\`)`,
    )
  }
  return { rpcUrl: opts.rpc ?? chain.rpcUrl, registry: chain.registry as Address }
}
