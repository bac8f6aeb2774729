/**
 * The part of OpenAPI 3.1 this API's document uses, typed so that a misspelt field fails `tsc` instead of
 * silently vanishing from the document. Schemas are JSON Schema 2020-12, kept loose here on purpose.
 */
export type JsonSchema = { readonly [keyword: string]: unknown }

export interface Reference {
  readonly $ref: string
}

export interface MediaType {
  readonly schema: JsonSchema | Reference
  readonly example?: unknown
}

export interface HeaderObject {
  readonly description: string
  readonly schema: JsonSchema
}

export interface ResponseObject {
  readonly description: string
  readonly headers?: Readonly<Record<string, HeaderObject>>
  readonly content?: Readonly<Record<string, MediaType>>
}

export interface Parameter {
  readonly name: string
  readonly in: 'path' | 'query' | 'header'
  readonly required: boolean
  readonly description: string
  readonly schema: JsonSchema | Reference
}

export interface Operation {
  readonly operationId: string
  readonly summary: string
  readonly description?: string
  readonly tags: readonly string[]
  readonly parameters?: readonly (Parameter | Reference)[]
  readonly requestBody?: {
    readonly required: boolean
    readonly description: string
    readonly content: Readonly<Record<string, MediaType>>
  }
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[]
  readonly responses: Readonly<Record<string, ResponseObject | Reference>>
}

export type PathItem = Partial<Record<'get' | 'post' | 'put' | 'delete' | 'patch', Operation>>

export interface OpenApiDocument {
  readonly openapi: '3.1.0'
  readonly info: { readonly title: string; readonly version: string; readonly description: string }
  readonly tags: readonly { readonly name: string; readonly description: string }[]
  readonly paths: Readonly<Record<string, PathItem>>
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>
    readonly parameters: Readonly<Record<string, Parameter>>
    readonly responses: Readonly<Record<string, ResponseObject>>
    readonly securitySchemes: Readonly<
      Record<string, { readonly type: 'http'; readonly scheme: 'bearer'; readonly description: string }>
    >
  }
}
