// Which loader a program starts in, and so which hooks pay for themselves. On Node 22.15+ a
// `module.registerHooks` resolve hook sees require() too, each one Node's own cache has not
// answered going through Node's slower hooked path (file URLs, hook contexts), while
// wrapping the CommonJS resolver costs next to nothing
// (docs/decisions/startup-costs.md#commonjs-patch-vs-registerhooks). So a CommonJS program gets the CommonJS-level patches on every Node, and
// registerHooks is used where ES modules need it. An `import()` from a CommonJS program then
// resolves through Node itself: correct, only not served from the index.
import { setting } from '../settings.js';
import { realpathSync } from 'node:fs';
import { has } from '../node-features.js';

export type EntryKind = 'module' | 'commonjs' | 'unknown';

let entryMemo: { entry: string; real: string | undefined } | undefined;

/** What a fresh pack recorded about its entries at pack time (pack/start-facts.ts). */
export interface StartFacts {
  /** The real path of an entry, when recorded. */
  realPath(entry: string): string | undefined;
  /** A package.json's "type" and "coldstart" fields; null: it does not exist; undefined: not recorded. */
  json(file: string): { readonly value: unknown } | null | undefined;
}

let startFacts: StartFacts | undefined;

/** Lets start-up questions about the entry be answered by the pack serving this process. */
export function useStartFacts(facts: StartFacts | undefined): void {
  startFacts = facts;
  entryMemo = undefined;
}

/**
 * The "type" of `file`'s package scope as the pack recorded it (undefined: no "type"); null
 * when the pack did not record that scope.
 */
export function knownScopeType(file: string): string | undefined | null {
  if (startFacts === undefined) return null;
  for (let dir = file.slice(0, file.lastIndexOf('/')); dir !== ''; dir = dir.slice(0, dir.lastIndexOf('/'))) {
    const known = startFacts.json(`${dir}/package.json`);
    if (known === undefined) return null;
    if (known !== null) {
      const type = (known.value as { type?: unknown } | null)?.type;
      return typeof type === 'string' ? type : undefined;
    }
  }
  return null;
}

/** What the pack recorded about `file` (see StartFacts.json). */
export function knownJson(file: string): { readonly value: unknown } | null | undefined {
  return startFacts?.json(file);
}

/**
 * The real path of the entry script (process.argv[1]); undefined for none or when it cannot be
 * resolved (no extension given, a directory). Asked by several features at start-up, resolved
 * once: each call would otherwise stat every component of the path again.
 */
export function entryRealPath(): string | undefined {
  const entry = process.argv[1];
  if (entry === undefined || entry === '') return undefined;
  if (entryMemo?.entry !== entry) {
    let real = startFacts?.realPath(entry);
    try {
      real ??= realpathSync(entry);
    } catch {
      real = undefined;
    }
    entryMemo = { entry, real };
  }
  return entryMemo.real;
}

/**
 * The kind of the entry script (process.argv[1]) by the rules Node applies: extension first,
 * then the package scope's "type" (`typeOf`: the nearest package.json's "type", undefined for
 * none, null when unknown). No entry (`node -e`, the REPL) runs as CommonJS.
 */
export function entryKind(typeOf: (file: string) => string | undefined | null): EntryKind {
  const entry = process.argv[1];
  if (entry === undefined || entry === '') return 'commonjs';
  const path = entryRealPath();
  // An entry Node resolves itself (no extension given, a directory): do not guess.
  if (path === undefined) return 'unknown';
  if (path.endsWith('.mjs') || path.endsWith('.mts')) return 'module';
  if (path.endsWith('.cjs') || path.endsWith('.cts')) return 'commonjs';
  if (path.endsWith('.json') || path.endsWith('.node')) return 'commonjs';
  const type = typeOf(path);
  if (type === null) return 'unknown';
  return type === 'module' ? 'module' : 'commonjs';
}

/**
 * Whether to hook in through module.registerHooks (else the CommonJS-level patches):
 * only where it exists, and not for a CommonJS entry. COLDSTART_HOOKS=registerHooks or
 * COLDSTART_HOOKS=patch overrides the choice (for debugging and tests).
 */
export function useRegisterHooks(kind: () => EntryKind): boolean {
  if (!has('registerHooks')) return false;
  const forced = setting('COLDSTART_HOOKS');
  if (forced === 'registerHooks') return true;
  if (forced === 'patch') return false;
  return kind() !== 'commonjs';
}
