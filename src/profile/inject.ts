// Adds two calls to an ES module's source so that its evaluation can be timed: one before its
// first statement (every dependency has been evaluated by then) and one after its last. The
// first line keeps its line number (a hashbang line stays first), so stack traces still match.

export const GLOBAL_KEY = 'coldstart.profile';

/** `info` is a JSON-able value handed to the start call (the off-thread hooks' measurements). */
export function injectMarkers(source: string, url: string, info?: unknown): string {
  const target = `globalThis[Symbol.for(${JSON.stringify(GLOBAL_KEY)})]`;
  const args = info === undefined ? JSON.stringify(url) : `${JSON.stringify(url)},${JSON.stringify(info)}`;
  const start = `${target}?.s(${args});`;
  const end = `\n;${target}?.e(${JSON.stringify(url)});\n`;
  if (source.startsWith('#!')) {
    const eol = source.indexOf('\n');
    if (eol === -1) return source + '\n' + start + end;
    return source.slice(0, eol + 1) + start + source.slice(eol + 1) + end;
  }
  return start + source + end;
}

/** Hook results carry source as a string, Buffer or typed array. */
export function sourceText(source: unknown): string | undefined {
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array) return Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
  if (source instanceof ArrayBuffer) return Buffer.from(source).toString('utf8');
  return undefined;
}
