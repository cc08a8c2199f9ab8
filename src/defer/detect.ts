// The cheap checks the defer load hook runs on every file before deciding to parse anything;
// kept apart from the transform so that checking a file never loads the parser.

/** The prefix of the specifiers the transform emits; the defer resolve hook owns it. */
export const virtualPrefix = 'coldstart-defer:';

/** Cheap test for files that may need the transform: most files are passed through on this alone. */
export function mayNeedTransform(source: string, defer: readonly string[]): boolean {
  if (/\bimport\s+defer\b/.test(source)) return true;
  for (const pattern of defer) {
    const literal = pattern.includes('*') ? pattern.slice(0, pattern.indexOf('*')) : pattern;
    if (source.includes(literal)) return true;
  }
  return false;
}
