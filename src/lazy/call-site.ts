// Cheap capture of "where was this called from": raw V8 frames are taken at capture time and
// formatted into `file:line:col` only when someone asks (an error, a report).
// Frames inside coldstart's own dist/ are skipped; computed on first use, not at load.
let ownDir: string | undefined;

function coldstartDir(): string {
  if (ownDir === undefined) {
    const here = fileURLToPath(import.meta.url);
    const at = here.lastIndexOf(`${sep()}dist${sep()}`);
    ownDir = at === -1 ? here : here.slice(0, at + 6);
  }
  return ownDir;
}

function sep(): string {
  return process.platform === 'win32' ? '\\' : '/';
}

function fileURLToPath(url: string): string {
  return process.getBuiltinModule('node:url').fileURLToPath(url);
}

/** A captured stack, formatted lazily into the first frame outside coldstart and Node. */
export class CallSite {
  #holder: { stack?: string };
  #formatted: string | undefined;

  constructor(holder: { stack?: string }) {
    this.#holder = holder;
  }

  /** `file:line:col` of the user's code, or `<unknown>` when no user frame was captured. */
  toString(): string {
    if (this.#formatted === undefined) this.#formatted = firstUserFrame(this.#holder.stack ?? '');
    return this.#formatted;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Captures the stack above `skip` (a function of ours) with a few frames only. */
export function captureCallSite(skip: Function): CallSite {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  Error.captureStackTrace(holder, skip);
  Error.stackTraceLimit = limit;
  return new CallSite(holder);
}

const framePattern = /^\s*at (?:.*? \()?(.*?):(\d+):(\d+)\)?\s*$/;

function firstUserFrame(stack: string): string {
  for (const line of stack.split('\n')) {
    const match = framePattern.exec(line);
    if (match === null) continue;
    let file = match[1] ?? '';
    if (file.startsWith('node:') || file === '<anonymous>' || file === 'native') continue;
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file);
      } catch {
        // keep the URL as it is
      }
    }
    if (file.startsWith(coldstartDir())) continue;
    return `${file}:${match[2]}:${match[3]}`;
  }
  return '<unknown>';
}
