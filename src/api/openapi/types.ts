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

/** An object schema of named values: a route's path parameters or query string. */
export interface ObjectSchema {
  readonly type: 'object'
  readonly required: readonly string[]
  readonly additionalProperties: false
  /**
   * Each value's schema, with its `description`; `x-dacnet-error` names the error code a value the schema refuses
   * is answered with (API_BAD_REQUEST when absent).
   */
  readonly properties: Readonly<Record<string, JsonSchema>>
}

/**
 * A route's fastify `schema`: what fastify validates before the handler runs (`params`, `querystring`, `body`), the
 * responses, and the rest of the route's OpenAPI operation. The OpenAPI document is generated from these.
 */
export interface RouteSchema {
  readonly operationId: string
  readonly summary: string
  readonly description?: string
  readonly tags: readonly string[]
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[]
  readonly params?: ObjectSchema
  readonly querystring?: ObjectSchema
  /** A JSON request body, validated by fastify. */
  readonly body?: JsonSchema
  /** A request body that is not JSON (a raw blob): documented here, bounded and typed by the route itself. */
  readonly requestBody?: Operation['requestBody']
  /** By status: fastify serializes with these (see app.ts), the document lists them. */
  readonly response: Readonly<Record<string, ResponseObject | Reference>>
}

/** A route of the API: method, fastify URL (`/v1/blobs/:id`) and schema. */
export interface ApiRoute {
  /** Upper case, as fastify reports it. */
  readonly method: string
  readonly url: string
  readonly schema: RouteSchema
}

export interface OpenApiDocument {
  readonly openapi: '3.1.0'
  readonly info: { readonly title: string; readonly version: string; readonly description: string }
  readonly tags: readonly { readonly name: string; readonly description: string }[]
  readonly paths: Readonly<Record<string, PathItem>>
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>
    readonly responses: Readonly<Record<string, ResponseObject>>
    readonly securitySchemes: Readonly<
      Record<string, { readonly type: 'http'; readonly scheme: 'bearer'; readonly description: string }>
    >
  }
}
