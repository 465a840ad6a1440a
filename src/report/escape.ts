/**
 * Escaping for the HTML reports. Every string that comes from a scenario, a trace or a finding
 * goes through `esc` (text and attribute values) or `jsonForScript` (data the page's script reads);
 * nothing from a scenario is ever put in the page as markup or code.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/**
 * JSON safe inside `<script type="application/json">`: `<`, `>`, `&` and the JS line separators
 * become \u escapes, so no string can close the script element or open a comment.
 */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
