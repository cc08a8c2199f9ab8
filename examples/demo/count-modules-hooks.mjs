// Off-thread load hook for count-modules.mjs on Node 20: appends each ES module file it loads.
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let out;
export function initialize(data) {
  out = data.out;
}
export async function load(url, context, nextLoad) {
  if (url.startsWith('file:')) appendFileSync(out, fileURLToPath(url) + '\n');
  return nextLoad(url, context);
}
