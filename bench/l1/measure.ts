/**
 * The certificate side of the L1 gas benchmark (bench/l1.ts): certificates with chosen non-signers, and the gas a
 * contract calling the verifier pays for one, measured two ways that must agree.
 */
import { getContract, type Hex, toHex } from 'viem'
import { aggregateSignatures, decodeSignature } from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { bitmapFromSigners } from '../../src/attest/signer-bitmap.ts'
import { dacnetCertificateVerifierAbi } from '../../src/chain/artifacts/DacnetCertificateVerifier.ts'
import { dacnetGasProbeAbi, dacnetGasProbeBytecode } from '../../src/chain/artifacts/DacnetGasProbe.ts'
import type { DacnetDeployment } from '../../src/chain/deploy.ts'
import { verifyOnchain } from '../../src/chain/registry-client.ts'
import type { Committee } from '../../src/committee/committee.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import type { Chain } from './chain.ts'

/** Calldata gas of bytes as a transaction pays it: 16 per non-zero byte, 4 per zero byte. */
export function calldataGas(bytes: Uint8Array): number {
  let gas = 0
  for (const b of bytes) gas += b === 0 ? 4 : 16
  return gas
}

/**
 * The verifier's verdict and the gas a calling contract pays, measured with `verifyOnchain` (a DacnetGasProbe whose
 * code is put in place for one eth_call), and checked against the same probe deployed for real: the two must agree.
 */
export async function measure(
  chain: Chain,
  deployment: DacnetDeployment,
  onchain: Uint8Array,
): Promise<{ verified: boolean; reason: number; gas: bigint; measuredWith: string }> {
  const [deployed, verdict] = await Promise.all([
    measureDeployed(chain, deployment, onchain),
    verifyOnchain(chain.publicClient, deployment.verifier, onchain),
  ])
  if (verdict.gas !== deployed.gas || verdict.verified !== deployed.verified || verdict.reason !== deployed.reason) {
    throw new Error(`verifyOnchain says ${verdict.gas} gas, a deployed probe ${deployed.gas}`)
  }
  return { ...verdict, measuredWith: 'verifyOnchain, checked against a deployed probe' }
}

/** The verdict and gas from a DacnetGasProbe deployed next to the verifier. */
async function measureDeployed(
  chain: Chain,
  deployment: DacnetDeployment,
  onchain: Uint8Array,
): Promise<{ verified: boolean; reason: number; gas: bigint }> {
  const probe = await deployedProbe(chain, deployment)
  const bytes = toHex(onchain)
  const [reason, [verified, gas]] = await Promise.all([
    chain.publicClient.readContract({
      address: deployment.verifier,
      abi: dacnetCertificateVerifierAbi,
      functionName: 'checkCertificate',
      args: [bytes],
    }),
    probe.read.measure([bytes]),
  ])
  return { verified, reason: Number(reason), gas }
}

const probes = new Map<string, ReturnType<typeof probeAt>>()

function probeAt(chain: Chain, address: Hex) {
  return getContract({ address, abi: dacnetGasProbeAbi, client: chain.publicClient })
}

async function deployedProbe(chain: Chain, deployment: DacnetDeployment) {
  let probe = probes.get(deployment.verifier)
  if (!probe) {
    const hash = await chain.walletClient.deployContract({
      abi: dacnetGasProbeAbi,
      bytecode: dacnetGasProbeBytecode,
      args: [deployment.verifier],
      account: chain.deployer,
      chain: null,
    })
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 10 })
    probe = probeAt(chain, receipt.contractAddress!)
    probes.set(deployment.verifier, probe)
  }
  return probe
}

/** Non-signers spread evenly over the member order: round(share·m) of them. */
export function spreadAbsent(size: number, share: number): Set<number> {
  const count = Math.round(share * size)
  return new Set(Array.from({ length: count }, (_, j) => Math.floor((j * size) / count)))
}

export function certificateOf(
  committee: Committee,
  header: BlobHeader,
  signatures: readonly Uint8Array[],
  absent: ReadonlySet<number>,
): Certificate {
  const signers = committee.members.map((m) => m.index).filter((i) => !absent.has(i))
  // With no signer the bitmap is empty; the signature is then member 0's (the form needs a valid point).
  const signing = signers.length > 0 ? signers : [0]
  return {
    version: 1,
    epoch: committee.epoch,
    header,
    memberCount: committee.size,
    signers: bitmapFromSigners(committee.size, signers),
    signature: aggregateSignatures(signing.map((i) => decodeSignature(signatures[i]!))).toBytes(true),
    signedStake: signers.reduce((sum, i) => sum + committee.members[i]!.stake, 0n),
  }
}
