/** An ILIKE pattern matching `text` anywhere; `%`, `_` and `\` in it match literally, as a user expects. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
}
