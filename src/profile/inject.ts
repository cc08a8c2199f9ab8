// Adds two calls to an ES module's source so that its evaluation can be timed, without moving
// any of the module's code (error messages quote and point into the source line, and stack
// traces give columns):
// - the start call goes at the head of the first line when that line holds no code (blank or a
//   line comment; the line after a hashbang), where nothing can point at it;
// - otherwise it lives in a tiny data: module imported at the end of the source. Imports are
//   requests in source order, so it is evaluated last among the module's dependencies, just
//   before the module's first statement. That costs a module record, so it is only the fallback
//   (docs/decisions/startup-costs.md#profile-inject-fallback);
// - the end call is a statement appended after the last one.
import { generatedCodeKeys } from '../shared-state.js';

export const GLOBAL_KEY = generatedCodeKeys.profileMarkers;

/** How every start module's URL begins; the hooks let these through unrecorded. */
export const MARKER_URL_PREFIX = `data:text/javascript,${encodeURIComponent('/*coldstart-profile*/')}`;

export function isMarkerURL(url: string): boolean {
  return url.startsWith(MARKER_URL_PREFIX);
}

/** Where a start call can go without moving code: the start of a code-free first line. */
function freeLineStart(source: string): number | undefined {
  let at = 0;
  if (source.startsWith('#!')) {
    at = source.indexOf('\n') + 1;
    if (at === 0) return undefined;
  }
  const eol = source.indexOf('\n', at);
  const line = source.slice(at, eol === -1 ? source.length : eol).trim();
  return line === '' || line.startsWith('//') ? at : undefined;
}

/** `info` is a JSON-able value handed to the start call (the off-thread hooks' measurements). */
export function injectMarkers(source: string, url: string, info?: unknown): string {
  const target = `globalThis[Symbol.for(${JSON.stringify(GLOBAL_KEY)})]`;
  const args = info === undefined ? JSON.stringify(url) : `${JSON.stringify(url)},${JSON.stringify(info)}`;
  const startCall = `${target}?.s(${args});`;
  const end = `\n;${target}?.e(${JSON.stringify(url)});\n`;
  const free = freeLineStart(source);
  if (free !== undefined) return source.slice(0, free) + startCall + source.slice(free) + end;
  return `${source}${end}import ${JSON.stringify(MARKER_URL_PREFIX + encodeURIComponent(startCall))};\n`;
}

/** Hook results carry source as a string, Buffer or typed array. */
export function sourceText(source: unknown): string | undefined {
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array) return Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
  if (source instanceof ArrayBuffer) return Buffer.from(source).toString('utf8');
  return undefined;
}
