import { Ajv2020 } from 'ajv/dist/2020.js'
import { expect } from 'vitest'
import { OPENAPI_DOCUMENT } from '../../src/api/openapi/document.ts'

/**
 * Validates real responses against the OpenAPI document's schemas (JSON Schema 2020-12), so that the code
 * and the document cannot drift apart. ajv comes with fastify (it compiles fastify's own schemas).
 */
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true })
ajv.addSchema({ $id: 'dacnet-openapi', components: OPENAPI_DOCUMENT.components }, 'dacnet-openapi')

/** The compiled validator of a component schema; throws if it does not compile. */
export function validatorOf(schema: string) {
  const validate = ajv.getSchema(`dacnet-openapi#/components/schemas/${schema}`)
  if (!validate) throw new Error(`no schema ${schema}`)
  return validate
}

export function expectSchema(body: unknown, schema: string): void {
  const validate = validatorOf(schema)
  const ok = validate(body)
  expect(ok ? [] : validate.errors, `${schema}: ${JSON.stringify(body).slice(0, 300)}`).toEqual([])
}

/** An error response: its status, code, and that its body has the documented shape. */
export function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as { error?: { code?: string } })?.error?.code }).toEqual({
    status,
    code,
  })
  expectSchema(res.body, 'Error')
}
