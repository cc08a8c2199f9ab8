// Opens the index for a run: one read, the header, the staleness stamps; then a view whose
// package sections are parsed on demand. Never throws: every failure is a reason string.
import type { DecodedIndex, Header } from './format.js';
import { staleReason } from './stamps.js';
import { readIndexFile } from './store.js';
import { removeIfUnchanged } from '../store.js';
import { IndexView, type IndexViewOptions } from './view.js';

export type OpenResult =
  | { readonly ok: true; readonly view: IndexView; readonly header: Header; readonly mtime: number; readonly index: DecodedIndex }
  | { readonly ok: false; readonly state: 'missing' | 'stale' | 'corrupt' | 'refused'; readonly reason: string; readonly header?: Header; readonly stale?: string };

/** `root` must be a real path: Node hands the hook real paths and the view compares prefixes. */
export function openIndex(root: string, file: string, options: IndexViewOptions & { readonly trusted?: boolean; readonly checkHeader?: boolean } = {}): OpenResult {
  // The view checks the header's checksum before its first answer (IndexView #intact);
  // `coldstart doctor` asks for it at once (checkHeader).
  const read = readIndexFile(file, options.checkHeader === true, root);
  if (!read.ok) return { ok: false, state: read.missing ? 'missing' : read.corrupt ? 'corrupt' : 'refused', reason: read.reason };
  const header = read.index.header;
  // A shared install's index was checked when it was built (settings.ts sharedInstall).
  const stale = options.trusted === true ? undefined : staleReason(root, header.stamps);
  if (stale !== undefined) return { ok: false, state: 'stale', reason: `stale index: ${stale}`, header, stale };
  // A section that fails its checksum is answered by Node in this run; the file goes, so the
  // next run builds a new one.
  const onCorrupt = options.onCorrupt ?? (options.trusted === true ? (): void => {} : (): void => removeIfUnchanged(file, read.mtime));
  return { ok: true, view: new IndexView(read.index, root, { ...options, onCorrupt }), header, mtime: read.mtime, index: read.index };
}
