// Node 20's off-thread ES module hooks for `coldstart pack` recording: each resolution answer
// and each ES module or JSON load is appended, as one JSON line, to a file the builder merges.
import { appendFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceSum } from './format.js';

let file = '';
let ownDir = '\0';

export function initialize(data: { file: string; ownDir: string }): void {
  file = data.file;
  ownDir = data.ownDir;
}

function write(line: unknown[]): void {
  try {
    appendFileSync(file, JSON.stringify(line) + '\n');
  } catch {
    // recording is best effort
  }
}

type Next = (a: string, c: any) => Promise<any>;

export async function resolve(specifier: string, context: { parentURL?: string; conditions?: string[] }, next: Next): Promise<unknown> {
  const result = await next(specifier, context);
  if (context.parentURL?.startsWith('file:') && typeof result?.url === 'string' && result.url.startsWith('file:')) {
    const target = fileURLToPath(result.url);
    const parentDir = dirname(fileURLToPath(context.parentURL));
    if (!target.startsWith(ownDir) && !(parentDir + '/').startsWith(ownDir)) {
      write(['r', parentDir, specifier, context.conditions?.includes('require') ? 'r' : 'i', target]);
    }
  }
  return result;
}

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  const result = await next(url, context);
  if (url.startsWith('file:') && (result?.format === 'module' || result?.format === 'json')) {
    const path = fileURLToPath(url);
    const sum = sourceSum(result.source);
    if (!path.startsWith(ownDir)) write(sum === undefined ? ['m', path, result.format] : ['m', path, result.format, sum]);
  }
  return result;
}
