/**
 * What lists and events carry of model-made text and tool inputs: at most 64 KiB of each, with
 * a visible marker, so one huge item (a 9 MB input) cannot make a listing or an event frame too
 * large to read. The whole is always there by id: getApproval, getConversation.
 */
import {MAX_LISTED_BYTES, TRUNCATED_TAIL_CHARS, type TruncatedToolInput} from '../protocol/approvals.js'
import {codePoints, headOf, tailOf} from '../shared/text.js'

/** `text`, or its first MAX_LISTED_BYTES characters and a marker saying where the rest is. */
export function capText(text: string, whole: string): string {
  if (text.length <= MAX_LISTED_BYTES) return text
  return `${text.slice(0, MAX_LISTED_BYTES)}… [${text.length - MAX_LISTED_BYTES} more characters; ${whole} has the full text]`
}

/** What stands in for a tool input (given as its JSON) over the cap; undefined when it fits. */
export function truncatedToolInput(json: string, whole: string): TruncatedToolInput | undefined {
  if (json.length <= MAX_LISTED_BYTES) return undefined
  return {
    hld_truncated: true,
    bytes: Buffer.byteLength(json),
    preview: headOf(json, MAX_LISTED_BYTES),
    tail: tailOf(json, TRUNCATED_TAIL_CHARS),
    characters: codePoints(json),
    message: `This tool input is ${Buffer.byteLength(json)} bytes; lists and events show its first ${MAX_LISTED_BYTES} and last ${TRUNCATED_TAIL_CHARS} characters. ${whole} has it whole.`,
  }
}
