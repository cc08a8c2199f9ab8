// The cheap checks the defer load hook runs on every file before deciding to parse anything;
// kept apart from the transform so that checking a file never loads the parser.

/** The scheme of the stand-in modules' URLs (`coldstart-defer:?url=...`); also the prefix of the
 *  specifiers in packs and cached transforms written by earlier coldstart versions. */
export const virtualPrefix = 'coldstart-defer:';

/**
 * The prefix of the specifiers the transform emits, which the defer resolve hook owns. Not a URL:
 * Node 22's require(esm) asserts that every URL-shaped specifier in the graph it loads is file:,
 * node: or data:, and a deferred module that itself defers an import is loaded that way.
 */
export const specifierPrefix = '#coldstart-defer:';

/** Whether `specifier` names a stand-in (either prefix). */
export function isStandInSpecifier(specifier: string): boolean {
  return specifier.startsWith(specifierPrefix) || specifier.startsWith(virtualPrefix);
}

/** Cheap test for files that may need the transform: most files are passed through on this alone. */
export function mayNeedTransform(source: string, defer: readonly string[]): boolean {
  if (usesDeferredImport(source)) return true;
  for (const pattern of defer) {
    const literal = pattern.includes('*') ? pattern.slice(0, pattern.indexOf('*')) : pattern;
    if (source.includes(literal)) return true;
  }
  return false;
}

/**
 * mayNeedTransform over the bytes Node read, before they are decoded: false means the file
 * certainly needs nothing. A native search, so that files without the words (nearly all) are never
 * turned into strings; both forms of the syntax contain `defer`.
 */
export function bytesMayNeedTransform(bytes: Uint8Array, defer: readonly string[]): boolean {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.indexOf('defer') !== -1) return true;
  for (const pattern of defer) {
    const literal = pattern.includes('*') ? pattern.slice(0, pattern.indexOf('*')) : pattern;
    if (buffer.indexOf(literal) !== -1) return true;
  }
  return false;
}

/**
 * Whether `import defer` (the words, any white space or comments between) occurs in the text, as
 * /\bimport\s+defer\b/ would say with comments counted as white space. A scan: compiling that
 * expression at its first use cost more at start-up than the search itself.
 */
export function hasImportDefer(source: string): boolean {
  for (let at = source.indexOf('import'); at !== -1; at = source.indexOf('import', at + 6)) {
    if (at > 0 && isWordChar(source.charCodeAt(at - 1))) continue;
    const next = skipGap(source, at + 6);
    if (next === at + 6 || !source.startsWith('defer', next)) continue;
    if (next + 5 < source.length && isWordChar(source.charCodeAt(next + 5))) continue;
    return true;
  }
  return false;
}

/** Either form of the proposal: the `import defer` statement or the `import.defer()` call. */
export function usesDeferredImport(source: string): boolean {
  return hasImportDefer(source) || hasImportDeferCall(source);
}

/**
 * Whether `import.defer` (white space allowed around the dot) occurs in the text, as
 * /(?<![\w$.])import\s*\.\s*defer\b/ would say; a scan, for the same reason as hasImportDefer.
 */
export function hasImportDeferCall(source: string): boolean {
  for (let at = source.indexOf('import'); at !== -1; at = source.indexOf('import', at + 6)) {
    if (at > 0) {
      const before = source.charCodeAt(at - 1);
      if (isWordChar(before) || before === 36 || before === 46) continue;
    }
    let next = skipGap(source, at + 6);
    if (source.charCodeAt(next) !== 46) continue;
    next = skipGap(source, next + 1);
    if (!source.startsWith('defer', next)) continue;
    if (next + 5 < source.length && isWordChar(source.charCodeAt(next + 5))) continue;
    return true;
  }
  return false;
}

/**
 * `source` with the keyword of each `import defer` and `import.defer` blanked out (same length,
 * so every position stays): what Node gets when the transform cannot parse a file, so that Node
 * reports the file's real syntax error instead of stopping at the syntax it does not know.
 */
export function withoutDefer(source: string): string {
  let out = source;
  for (let at = source.indexOf('import'); at !== -1; at = source.indexOf('import', at + 6)) {
    if (at > 0 && (isWordChar(source.charCodeAt(at - 1)) || source.charCodeAt(at - 1) === 36 || source.charCodeAt(at - 1) === 46)) continue;
    let next = skipGap(source, at + 6);
    let dot = -1;
    if (source.charCodeAt(next) === 46) {
      dot = next;
      next = skipGap(source, next + 1);
    } else if (next === at + 6) continue;
    if (!source.startsWith('defer', next) || (next + 5 < source.length && isWordChar(source.charCodeAt(next + 5)))) continue;
    out = out.slice(0, next) + '     ' + out.slice(next + 5);
    if (dot !== -1) out = out.slice(0, dot) + ' ' + out.slice(dot + 1);
  }
  return out;
}

/**
 * The index after the white space and comments that start at `from` (a comment separates two
 * words as white space does: `import /* lazy *\/ defer`).
 */
function skipGap(source: string, from: number): number {
  let at = from;
  for (;;) {
    while (at < source.length && isSpace(source.charCodeAt(at))) at++;
    if (source.charCodeAt(at) !== 47) return at;
    const second = source.charCodeAt(at + 1);
    if (second === 42) {
      const end = source.indexOf('*/', at + 2);
      if (end === -1) return at;
      at = end + 2;
    } else if (second === 47) {
      let end = at + 2;
      while (end < source.length && !isLineTerminator(source.charCodeAt(end))) end++;
      at = end;
    } else return at;
  }
}

function isLineTerminator(code: number): boolean {
  return code === 10 || code === 13 || code === 0x2028 || code === 0x2029;
}

/** The characters of \w: ASCII letters, digits and `_`. */
function isWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

/** The characters of \s: ASCII and Unicode white space and line terminators, as in a regular expression. */
function isSpace(code: number): boolean {
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  if (code < 160) return false;
  return code === 160 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}
