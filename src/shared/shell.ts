/**
 * The simple commands of a Bash command line, so that policy can judge each one and people can see
 * each one. A scanner, not a Bash parser: where it is unsure it errs towards more parts, never fewer,
 * because a command hidden inside another one (behind a quote, a comment or a substitution) is
 * exactly what a hostile model would try.
 *
 * Split at `&&`, `||`, `;`, `|`, `&` and newlines. The commands inside `$(…)`, backticks, `<(…)`,
 * `>(…)`, `( … )` subshells, `${…}` and `$((…))` are parts of their own (recursively), after the
 * command that holds them. Quotes, escapes, comments and here-documents are respected; leading
 * reserved words (`if`, `then`, `do`, `!`, `{`, `time`, …) are dropped so each part starts with
 * its command. Each part is trimmed; empty parts are left out.
 */
export function splitCommand(command: string): string[] {
  return new Splitter(command).list(false)
}

interface Heredoc {
  delimiter: string
  stripTabs: boolean
  /** An unquoted delimiter: the body is expanded, so `$(…)` in it runs. */
  expands: boolean
}

interface Scanned {
  text: string
  parts: string[]
}

/** Characters that end a word in Bash (besides blanks). */
const METACHARACTERS = new Set([';', '&', '|', '(', ')', '<', '>', '\n'])
const RESERVED_PREFIX = /^(?:\{|\}|!|if|then|else|elif|fi|do|done|while|until|time)(?:\s+|$)/

class Splitter {
  private i = 0
  private readonly heredocs: Heredoc[] = []

  constructor(private readonly src: string) {}

  /** The parts of a command list up to the end of input, or up to its `)` when `closed`. */
  list(closed: boolean): string[] {
    const {src} = this
    const parts: string[] = []
    let current = ''
    let nested: string[] = []
    // Parentheses that are words' text, not subshells: an array `a=(x y)`, a function `f()`.
    let literalParens = 0
    const flush = (): void => {
      const part = withoutReservedWords(current.trim())
      if (part) parts.push(part)
      parts.push(...nested)
      current = ''
      nested = []
      literalParens = 0
    }

    while (this.i < src.length) {
      const c = src[this.i]
      const next = src[this.i + 1]
      if (c === ')' && literalParens === 0 && closed) {
        this.i++
        break
      }

      const expansion = c === "'" ? {text: this.singleQuoted(), parts: []} : c === '"' ? this.doubleQuoted() : this.expansion(true)
      if (expansion) {
        current += expansion.text
        nested.push(...expansion.parts)
        continue
      }

      if (c === '\\') {
        current += src.slice(this.i, this.i + 2)
        this.i += 2
        continue
      }

      if (c === '#' && startsWord(current)) {
        this.skipComment()
        continue
      }

      if (c === '\n') {
        this.i++
        flush()
        parts.push(...this.heredocBodies())
        continue
      }

      if (c === ';' || c === '|' || c === '&') {
        const last = current.at(-1)
        const redirection = last === '>' || last === '<' || (c === '&' && next === '>')
        if (!redirection) {
          this.i += next === c || (c === '|' && next === '&') || (c === ';' && next === '&') ? 2 : 1
          if (src[this.i] === '&' && c === ';') this.i++ // `;;&`
          flush()
          continue
        }
      }

      if (c === '(') {
        if (withoutReservedWords(current.trim()) === '') {
          this.i++
          flush()
          parts.push(...this.list(true))
          continue
        }

        literalParens++
      }

      if (c === ')' && literalParens > 0) literalParens--

      if (c === '<' && next === '<' && src[this.i + 2] !== '<') {
        current += this.heredocStart()
        continue
      }

      current += c
      this.i++
    }

    flush()
    return parts
  }

  /**
   * An expansion that starts here, or null: `$(…)`, `$((…))`, `${…}`, `$'…'`, backticks, and (outside
   * double quotes) `<(…)` and `>(…)`. Its text, and the commands it runs.
   */
  private expansion(processSubstitution: boolean): Scanned | null {
    const {src} = this
    const start = this.i
    const c = src[start]
    const next = src[start + 1]
    if (c === '`') return this.backticks()
    if ((c === '$' && next === '(' && src[start + 2] !== '(') || (processSubstitution && (c === '<' || c === '>') && next === '(')) {
      this.i += 2
      const parts = this.list(true)
      return {text: src.slice(start, this.i), parts}
    }

    if (c === '$' && next === '(') return this.bracketed(3, '(', ')', 2)
    if (c === '$' && next === '{') return this.bracketed(2, '{', '}', 1)
    if (c === '$' && next === "'") {
      this.i += 2
      while (this.i < src.length && src[this.i] !== "'") this.i += src[this.i] === '\\' ? 2 : 1
      this.i++
      return {text: src.slice(start, this.i), parts: []}
    }

    return null
  }

  /** `$((…))` or `${…}`: text up to the matching closer, with the commands of expansions inside it. */
  private bracketed(skip: number, open: string, close: string, depth: number): Scanned {
    const {src} = this
    const start = this.i
    const parts: string[] = []
    this.i += skip
    while (this.i < src.length && depth > 0) {
      const c = src[this.i]
      const inner = c === "'" ? {text: this.singleQuoted(), parts: []} : c === '"' ? this.doubleQuoted() : this.expansion(false)
      if (inner) {
        parts.push(...inner.parts)
        continue
      }

      if (c === open) depth++
      if (c === close) depth--
      this.i += c === '\\' ? 2 : 1
    }

    return {text: src.slice(start, this.i), parts}
  }

  private backticks(): Scanned {
    const {src} = this
    const start = this.i++
    let inner = ''
    while (this.i < src.length && src[this.i] !== '`') {
      // Inside backticks a backslash quotes only `, $ and \ (Bash's rule); others stay as they are.
      if (src[this.i] === '\\' && '`$\\'.includes(src[this.i + 1] ?? '')) this.i++
      inner += src[this.i++] ?? ''
    }

    this.i++
    return {text: src.slice(start, this.i), parts: splitCommand(inner)}
  }

  private singleQuoted(): string {
    const start = this.i
    const end = this.src.indexOf("'", start + 1)
    this.i = end === -1 ? this.src.length : end + 1
    return this.src.slice(start, this.i)
  }

  private doubleQuoted(): Scanned {
    const {src} = this
    const start = this.i++
    const parts: string[] = []
    while (this.i < src.length && src[this.i] !== '"') {
      const inner = this.expansion(false)
      if (inner) parts.push(...inner.parts)
      else this.i += src[this.i] === '\\' ? 2 : 1
    }

    this.i++
    return {text: src.slice(start, this.i), parts}
  }

  private skipComment(): void {
    const end = this.src.indexOf('\n', this.i)
    this.i = end === -1 ? this.src.length : end
  }

  /** `<<WORD` or `<<-WORD`: remember the document, whose body starts after the next newline. */
  private heredocStart(): string {
    const {src} = this
    const start = this.i
    this.i += 2
    const stripTabs = src[this.i] === '-'
    if (stripTabs) this.i++
    while (src[this.i] === ' ' || src[this.i] === '\t') this.i++
    let delimiter = ''
    let quoted = false
    while (this.i < src.length && !METACHARACTERS.has(src[this.i]) && !/\s/.test(src[this.i])) {
      const c = src[this.i]
      if (c === "'" || c === '"') {
        quoted = true
        const end = src.indexOf(c, this.i + 1)
        const close = end === -1 ? src.length : end
        delimiter += src.slice(this.i + 1, close)
        this.i = close + 1
      } else if (c === '\\') {
        quoted = true
        delimiter += src[this.i + 1] ?? ''
        this.i += 2
      } else {
        delimiter += c
        this.i++
      }
    }

    if (delimiter) this.heredocs.push({delimiter, expands: !quoted, stripTabs})
    return src.slice(start, this.i)
  }

  /** Skip the bodies of the here-documents begun on the line just ended; commands that expand in them. */
  private heredocBodies(): string[] {
    const {src} = this
    const parts: string[] = []
    for (const doc of this.heredocs.splice(0)) {
      let body = ''
      while (this.i < src.length) {
        const end = src.indexOf('\n', this.i)
        const line = src.slice(this.i, end === -1 ? src.length : end)
        this.i = end === -1 ? src.length : end + 1
        if ((doc.stripTabs ? line.replace(/^\t+/, '') : line) === doc.delimiter) break
        body += line + '\n'
      }

      if (doc.expands) parts.push(...new Splitter(body).expansionsIn())
    }

    return parts
  }

  /** The commands that expansions in a here-document body run (quotes mean nothing there). */
  private expansionsIn(): string[] {
    const parts: string[] = []
    while (this.i < this.src.length) {
      const inner = this.expansion(false)
      if (inner) parts.push(...inner.parts)
      else this.i += this.src[this.i] === '\\' ? 2 : 1
    }

    return parts
  }
}

function startsWord(text: string): boolean {
  const last = text.at(-1)
  return last === undefined || /\s/.test(last) || METACHARACTERS.has(last)
}

function withoutReservedWords(part: string): string {
  let rest = part
  for (let match = RESERVED_PREFIX.exec(rest); match; match = RESERVED_PREFIX.exec(rest)) rest = rest.slice(match[0].length)
  return rest
}
