/**
 * The body of a fetch Response as text, read to at most `max` bytes: undefined (and the rest left unread) when it
 * declares or turns out to be longer. For answers from another process, which a caller must not buffer unbounded.
 */
export async function readAtMost(response: Response, max: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > max) {
    await response.body?.cancel()
    return undefined
  }
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of response.body ?? []) {
    total += chunk.byteLength
    // Leaving the loop cancels the body: nothing more is read.
    if (total > max) return undefined
    chunks.push(chunk)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}
