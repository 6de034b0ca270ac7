const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for HTML and SVG element content and for quoted attribute
 * values: every name and message from the ledger goes through it. Control
 * characters (except tab and newline) become U+FFFD so they cannot break XML.
 */
export function escapeHtml(text: unknown): string {
  return String(text)
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "\ufffd");
}
