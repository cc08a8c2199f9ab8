// The programmatic face of the index, as the package exports it: small here, the view and the
// resolver are imported on the first call only.
import type { Resolution } from '../resolve/view.js';

export interface IndexResolveOptions {
  /** The importing file (need not exist); defaults to a file in the working directory. */
  readonly from?: string;
  /** 'require' (default) or 'import', or a full condition list (it must contain one of them). */
  readonly conditions?: 'require' | 'import' | readonly string[];
  /** Project root; defaults to the one `coldstart/register` would find. */
  readonly root?: string;
  /** Index file; defaults to COLDSTART_INDEX or node_modules/.cache/coldstart/index.v1. */
  readonly index?: string;
}

/** What the index answers, plus where the answer came from. `unknown` means Node would decide. */
export type IndexResolution = Resolution & { readonly index: string | undefined; readonly root: string | undefined };

/** Resolves `specifier` the way the hook would, from the index alone (no probing). */
export async function resolveWithIndex(specifier: string, options: IndexResolveOptions = {}): Promise<IndexResolution> {
  const { resolveFromIndex } = await import('./resolve-from-index.js');
  return resolveFromIndex(specifier, options);
}
