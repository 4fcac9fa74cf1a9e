/**
 * Text as it may go to a terminal: its control characters (ESC begins the sequences that recolour,
 * retitle, clear the screen or write the clipboard; CR writes over the line) shown as \uXXXX.
 * Line breaks and tabs are kept: a message may have lines. What a store or a topic holds (a key,
 * an object's first bytes quoted by JSON.parse) reaches error messages, and a record's text the
 * JSON lines of tail, where an escape in a string means what the character did.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
