/**
 * The simple commands of a Bash command line, for judging (policy) and showing (render) each one.
 * Not a shell: it only has to find every place a command can start. It splits at `&&`, `||`,
 * `;`, `|`, `|&`, `&` and newlines; the contents of `$(…)`, `<(…)`, `>(…)`, backticks and `( … )`
 * subshells come back as parts of their own (recursively), while the command that holds a
 * substitution keeps its text. Quotes are respected; redirections like `2>&1` and `&>` are not
 * separators. Unbalanced input never throws: what is left is one more part, so a caller that
 * cannot match it asks instead of guessing.
 */
export function splitCommand(command: string): string[] {
  const parts: string[] = []
  new Splitter(command, parts).sequence(0, undefined)
  return parts
}

class Splitter {
  constructor(
    private readonly s: string,
    private readonly parts: string[],
  ) {}

  /** Reads commands from `i` until `closer` (or the end); returns the index after the closer. */
  sequence(i: number, closer: ')' | '`' | undefined): number {
    const {s} = this
    let start = i
    /** Literal parentheses opened inside this sequence (`a=(1 2)`), so their `)` is not ours. */
    let depth = 0
    const flush = (end: number): void => {
      const part = s.slice(start, end).trim()
      if (part) this.parts.push(part)
    }
    while (i < s.length) {
      const ch = s[i]
      if (ch === closer && (closer === '`' || depth === 0)) {
        flush(i)
        return i + 1
      }
      if (ch === '\\') {
        i += 2
      } else if (ch === "'") {
        const end = s.indexOf("'", i + 1)
        i = end === -1 ? s.length : end + 1
      } else if (ch === '"') {
        i = this.doubleQuoted(i + 1)
      } else if (ch === '`') {
        i = this.sequence(i + 1, '`')
      } else if ((ch === '$' || ch === '<' || ch === '>') && s[i + 1] === '(') {
        i = ch === '$' && s[i + 2] === '(' ? this.arithmetic(i + 3) : this.sequence(i + 2, ')')
      } else if (ch === '(') {
        if (s.slice(start, i).trim() === '') {
          // A subshell: its commands are the parts, the parentheses are not a command.
          i = this.sequence(i + 1, ')')
          start = i
        } else {
          depth++
          i++
        }
      } else if (ch === ')' && depth > 0) {
        depth--
        i++
      } else if (ch === '\n' || ch === ';') {
        flush(i)
        start = i = i + 1
      } else if (ch === '|') {
        if (s[i - 1] === '>') {
          i++ // `>|`: a redirection
        } else {
          flush(i)
          start = i = s[i + 1] === '|' || s[i + 1] === '&' ? i + 2 : i + 1
        }
      } else if (ch === '&') {
        if (s[i + 1] === '&') {
          flush(i)
          start = i = i + 2
        } else if (s[i - 1] === '>' || s[i - 1] === '<' || s[i + 1] === '>') {
          i++ // `2>&1`, `<&3`, `&>file`: redirections
        } else {
          flush(i)
          start = i = i + 1
        }
      } else {
        i++
      }
    }
    flush(s.length)
    return s.length
  }

  /** Inside "…": only substitutions start commands. Returns the index after the closing quote. */
  private doubleQuoted(i: number): number {
    const {s} = this
    while (i < s.length) {
      const ch = s[i]
      if (ch === '"') return i + 1
      if (ch === '\\') i += 2
      else if (ch === '`') i = this.sequence(i + 1, '`')
      else if (ch === '$' && s[i + 1] === '(') i = s[i + 2] === '(' ? this.arithmetic(i + 3) : this.sequence(i + 2, ')')
      else i++
    }
    return s.length
  }

  /** `$(( … ))`: arithmetic, no commands inside except substitutions. */
  private arithmetic(i: number): number {
    const {s} = this
    let depth = 0
    while (i < s.length) {
      if (s[i] === '$' && s[i + 1] === '(' && s[i + 2] !== '(') {
        i = this.sequence(i + 2, ')')
        continue
      }
      if (s[i] === '(') depth++
      else if (s[i] === ')') {
        if (depth === 0 && s[i + 1] === ')') return i + 2
        depth--
      }
      i++
    }
    return s.length
  }
}
