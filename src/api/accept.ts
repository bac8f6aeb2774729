/**
 * Whether an Accept header prefers raw bytes (application/octet-stream) to JSON. JSON wins ties and is the
 * answer when neither is named, so clients that send no Accept header, or `*\/*`, get JSON.
 */
export function prefersOctetStream(accept: string | undefined): boolean {
  if (accept === undefined) return false
  let octet = -1
  let json = -1
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    const qParam = params.find((p) => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (!Number.isFinite(q)) continue
    if (range === 'application/octet-stream') octet = Math.max(octet, q)
    else if (range === 'application/json' || range === 'application/*' || range === '*/*') json = Math.max(json, q)
  }
  return octet > 0 && octet > json
}
