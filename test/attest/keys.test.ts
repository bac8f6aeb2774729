import * as blst from '@chainsafe/blst'
import { describe, expect, it } from 'vitest'
import { secretKeyFromBytes } from '../../src/attest/bls.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import {
  DEFAULT_KEY_PATH,
  generateSecretKey,
  publicKeyOf,
  secretKeyFromMnemonic,
  secretKeyFromSeed,
} from '../../src/attest/keys.ts'
import { decryptKeystore, encryptKeystore } from '../../src/attest/keystore.ts'

const code = (c: string) => expect.objectContaining({ code: c })

// EIP-2333 test case 0.
const EIP2333_SEED = Buffer.from(
  'c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04',
  'hex',
)
const EIP2333_MASTER = 6083874454709270928345386274498605044986640685124978867557563392430687146096n
const EIP2333_CHILD_0 = 20397789859736650942317412262472558107875392172444076792671091975210932703118n

const asBigInt = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex')}`)

describe('keys', () => {
  it('derives EIP-2333 keys along an EIP-2334 path', () => {
    const master = blst.SecretKey.deriveMasterEip2333(EIP2333_SEED)
    expect(asBigInt(master.toBytes())).toBe(EIP2333_MASTER)
    expect(asBigInt(master.deriveChildEip2333(0).toBytes())).toBe(EIP2333_CHILD_0)
    const viaPath = [12381, 3600, 0, 0, 0].reduce((sk, i) => sk.deriveChildEip2333(i), master)
    expect(secretKeyFromSeed(EIP2333_SEED).toHex()).toBe(viaPath.toHex())
    expect(DEFAULT_KEY_PATH).toBe('m/12381/3600/0/0/0')
    expect(secretKeyFromSeed(EIP2333_SEED, 'm/12381/3600/1/0/0').toHex()).not.toBe(viaPath.toHex())
  })

  it('derives from a BIP-39 mnemonic deterministically', () => {
    const mnemonic = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
    expect(secretKeyFromMnemonic(mnemonic).toHex()).toBe(secretKeyFromMnemonic(mnemonic).toHex())
    expect(() => secretKeyFromMnemonic(mnemonic, 'not/a/path')).toThrow(code(AttestErrorCode.INVALID_SECRET_KEY))
  })

  it('generates fresh keys and refuses bad inputs', () => {
    expect(publicKeyOf(generateSecretKey())).not.toEqual(publicKeyOf(generateSecretKey()))
    expect(() => secretKeyFromSeed(new Uint8Array(31))).toThrow(code(AttestErrorCode.INVALID_SECRET_KEY))
    expect(() => secretKeyFromSeed(EIP2333_SEED, 'm/1')).toThrow(code(AttestErrorCode.INVALID_SECRET_KEY))
    expect(() => secretKeyFromBytes(new Uint8Array(32))).toThrow(code(AttestErrorCode.INVALID_SECRET_KEY))
    expect(() => secretKeyFromBytes(new Uint8Array(32).fill(0xff))).toThrow(code(AttestErrorCode.INVALID_SECRET_KEY))
  })
})

describe('EIP-2335 keystores', () => {
  // Light KDF settings keep the test fast; the one real-cost case is the EIP's own vector below.
  const light = { function: 'pbkdf2', c: 16 } as const

  it('round-trips with the right password and refuses the wrong one', async () => {
    const sk = secretKeyFromSeed(EIP2333_SEED)
    const keystore = await encryptKeystore(sk, 'correct horse', {
      kdf: light,
      path: DEFAULT_KEY_PATH,
      description: 'test',
    })
    expect(keystore.version).toBe(4)
    expect(keystore.pubkey).toBe(Buffer.from(publicKeyOf(sk)).toString('hex'))
    expect((await decryptKeystore(keystore, 'correct horse')).toHex()).toBe(sk.toHex())
    expect((await decryptKeystore(JSON.stringify(keystore), 'correct horse')).toHex()).toBe(sk.toHex())
    await expect(decryptKeystore(keystore, 'wrong')).rejects.toThrow(code(AttestErrorCode.WRONG_PASSWORD))
    const scrypt = await encryptKeystore(sk, 'pw', { kdf: { function: 'scrypt', n: 16, r: 8, p: 1 } })
    expect((await decryptKeystore(scrypt, 'pw')).toHex()).toBe(sk.toHex())
  })

  it('refuses malformed keystores and a pubkey that does not match', async () => {
    const sk = secretKeyFromSeed(EIP2333_SEED)
    const keystore = await encryptKeystore(sk, 'pw', { kdf: light })
    await expect(decryptKeystore({ ...keystore, crypto: {} }, 'pw')).rejects.toThrow(
      code(AttestErrorCode.MALFORMED_KEYSTORE),
    )
    await expect(decryptKeystore('{', 'pw')).rejects.toThrow(code(AttestErrorCode.MALFORMED_KEYSTORE))
    const other = Buffer.from(publicKeyOf(generateSecretKey())).toString('hex')
    await expect(decryptKeystore({ ...keystore, pubkey: other }, 'pw')).rejects.toThrow(
      code(AttestErrorCode.MALFORMED_KEYSTORE),
    )
  })

  it('decrypts the EIP-2335 scrypt test vector (real KDF cost)', async () => {
    const vector = {
      crypto: {
        kdf: {
          function: 'scrypt',
          params: {
            dklen: 32,
            n: 262144,
            p: 1,
            r: 8,
            salt: 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
          },
          message: '',
        },
        checksum: {
          function: 'sha256',
          params: {},
          message: 'd2217fe5f3e9a1e34581ef8a78f7c9928e436d36dacc5e846690a5581e8ea484',
        },
        cipher: {
          function: 'aes-128-ctr',
          params: { iv: '264daa3f303d7259501c93d997d84fe6' },
          message: '06ae90d55fe0a6e9c5c3bc5b170827b2e5cce3929ed3f116c2811e6366dfe20f',
        },
      },
      description: 'This is a test keystore that uses scrypt to secure the secret.',
      pubkey: '9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07',
      path: 'm/12381/60/3141592653/589793238',
      uuid: '1d85ae20-35c5-4611-98e8-aa14a633906f',
      version: 4,
    }
    // The password is NFKD-normalised to "testpassword🔑" before the KDF, as EIP-2335 requires.
    const sk = await decryptKeystore(vector, '𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑')
    expect(sk.toHex()).toBe('0x000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')
  })
})
