// Opens the index for a run: one read, the header, the staleness stamps; then a view whose
// package sections are parsed on demand. Never throws: every failure is a reason string.
import type { DecodedIndex, Header } from './format.js';
import { staleReason } from './stamps.js';
import { readIndexFile } from './store.js';
import { IndexView, type IndexViewOptions } from './view.js';

export type OpenResult =
  | { readonly ok: true; readonly view: IndexView; readonly header: Header; readonly mtime: number; readonly index: DecodedIndex }
  | { readonly ok: false; readonly state: 'missing' | 'stale' | 'refused'; readonly reason: string; readonly header?: Header };

/** `root` must be a real path: Node hands the hook real paths and the view compares prefixes. */
export function openIndex(root: string, file: string, options: IndexViewOptions = {}): OpenResult {
  const read = readIndexFile(file);
  if (!read.ok) return { ok: false, state: read.missing ? 'missing' : 'refused', reason: read.reason };
  const header = read.index.header;
  const stale = staleReason(root, header.stamps, header.nodePathEnv, process.env['NODE_PATH'] ?? '');
  if (stale !== undefined) return { ok: false, state: 'stale', reason: `stale index: ${stale}`, header };
  return { ok: true, view: new IndexView(read.index, root, options), header, mtime: read.mtime, index: read.index };
}
