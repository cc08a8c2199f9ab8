// The helper's text (build/runtime.ts as compiled), for bundlers (one module) and for files
// rewritten in place (inlined: its functions are declarations, hoisted, with no imports).
import { readFileSync } from 'node:fs';

/** The specifier emitted code imports the helper from, which the bundler plugins answer. */
export const helperSpecifier = 'coldstart:defer-runtime';

let text: string | undefined;

/** The compiled helper module, without its comments (they explain runtime.ts, not the output). */
export function helperModule(): string {
  text ??= readFileSync(new URL('./runtime.js', import.meta.url), 'utf8')
    .replace(/\n?\/\/# sourceMappingURL=[^\n]*\s*$/, '\n')
    .replace(/^\s*\/\*\*[\s\S]*?\*\/\n/gm, '')
    .replace(/^\s*\/\/.*\n/gm, '');
  return text;
}

/** The helper as declarations to append to a file. */
export function helperInline(): string {
  return `// coldstart: lazy imports\n${helperModule().replace(/^export /gm, '')}`;
}
