/** An async iterator with one entry of look-ahead, for the merge of records and shards. */
export class Peekable<Entry> {
  readonly #source: AsyncIterator<Entry>
  #head: Entry | undefined
  #done = false

  constructor(source: AsyncIterable<Entry>) {
    this.#source = source[Symbol.asyncIterator]()
  }

  async peek(): Promise<Entry | undefined> {
    if (this.#head === undefined && !this.#done) {
      const next = await this.#source.next()
      if (next.done) this.#done = true
      else this.#head = next.value
    }
    return this.#head
  }

  async take(): Promise<Entry | undefined> {
    const head = await this.peek()
    this.#head = undefined
    return head
  }

  /** Takes entries for as long as `predicate` holds for the next one. */
  async *takeWhile(predicate: (entry: Entry) => boolean): AsyncGenerator<Entry> {
    for (let head = await this.peek(); head !== undefined && predicate(head); head = await this.peek()) {
      this.#head = undefined
      yield head
    }
  }

  /** Releases the source (a LevelDB iterator) when the merge stops early. */
  async close(): Promise<void> {
    await this.#source.return?.()
  }
}
