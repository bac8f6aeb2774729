import { ChainErrorCode } from '../../chain/errors.ts'
import { DacnetError } from '../../errors.ts'

/** What to do about each registry error a member's transaction can meet (docs/PROTOCOL.md §4.2). */
const REVERT_HINTS: Readonly<Record<string, string>> = {
  AlreadyRegistered: 'this account is a member already: change its stake with `dacnet stake` or `dacnet unstake`',
  NotAMember: 'register the account first: `dacnet register --config NODE/config.json --stake AMOUNT`',
  CommitteeFull: 'the registry holds maxMembers members: wait for one to leave',
  StakeBelowMinimum:
    'keep at least the minimum stake (`dacnet chain status` shows it), or leave the committee with `dacnet unstake --all`',
  ZeroAmount: 'give an amount above 0',
  AmountAboveStake: 'unstake at most the stake the account holds (`dacnet chain status --eth-key-file FILE`)',
  InvalidKey: "the keystore's BLS key is not a valid key: make a new node directory with `dacnet init`",
  InvalidProofOfPossession: 'the proof of possession does not verify: make a new node directory with `dacnet init`',
  KeyAlreadyUsed: 'a BLS key registers once, ever: make a new node directory with `dacnet init`',
  PeerIdAlreadyUsed: "another member registered this node's peer id: use the node's own directory",
  InvalidPeerId: 'the peer id must be an Ed25519 or secp256k1 libp2p identity (as `dacnet init` makes)',
  TooManyMultiaddrs: 'announce at most 32 addresses (network.announce in the config)',
  InvalidMultiaddr: 'each address is 1..1024 printable ASCII characters starting with /: fix network.announce',
  ERC20InsufficientBalance: 'the account holds too few staking tokens',
  ERC20InsufficientAllowance: 'the approval did not cover the amount: run the command again',
}

/** A CHAIN_TRANSACTION_FAILED error gets the hint for the contract error it names, when there is one. */
export function withRevertHint(err: unknown): unknown {
  if (!(err instanceof DacnetError) || err.code !== ChainErrorCode.TRANSACTION_FAILED) return err
  const revert = err.meta['revert']
  const hint = typeof revert === 'string' ? REVERT_HINTS[revert] : undefined
  if (hint === undefined || err.meta['hint'] !== undefined) return err
  return new DacnetError(err.code, err.message, { ...err.meta, hint }, { cause: err.cause })
}
