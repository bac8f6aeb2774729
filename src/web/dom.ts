/**
 * The few browser shapes the page uses. The repository type-checks against Node's types only (the DOM library
 * would change what Node code sees, e.g. fetch's body types), so the page reads its globals through these.
 */
export interface PageElement {
  textContent: string | null
  className: string
  title: string
  hidden: boolean
  value: string
  readonly dataset: Record<string, string | undefined>
  readonly parentElement: PageElement | null
  append(...nodes: PageElement[]): void
  replaceChildren(...nodes: PageElement[]): void
  insertBefore(node: PageElement, before: PageElement | null): void
  addEventListener(type: string, listener: (event: { preventDefault(): void }) => void): void
}

export interface PageWorker {
  postMessage(message: unknown): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
}

interface PageGlobals {
  document: {
    body: PageElement
    getElementById(id: string): PageElement | null
    createElement(tag: string): PageElement
  }
  location: { search: string }
  history: { replaceState(state: null, unused: string, url: string): void }
  Worker: new (url: URL, options: { type: 'module' }) => PageWorker
}

export const page = globalThis as unknown as PageGlobals

/** The element with this id; the page's HTML has every id the app asks for. */
export function byId(id: string): PageElement {
  const element = page.document.getElementById(id)
  if (!element) throw new Error(`the page has no #${id}`)
  return element
}
