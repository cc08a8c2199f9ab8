// The environment that switches recording on in a command and every Node process it starts:
// NODE_OPTIONS gains `--import <preload>`, which Node passes on to child processes.
import { join } from 'node:path';
import { distURL } from '../dist-paths.js';

/** From dist/ itself: this code also runs bundled into dist/cli/commands/profile.js. */
export const preloadUrl = distURL('profile/preload.js');

/** NODE_OPTIONS with our preload added; a quoted URL survives spaces in the install path. */
export function withPreload(nodeOptions: string | undefined): string {
  const quoted = `--import "${preloadUrl.replace(/"/g, '%22')}"`;
  return nodeOptions === undefined || nodeOptions.trim() === '' ? quoted : `${nodeOptions} ${quoted}`;
}

export function profileEnv(dir: string, coverage: boolean, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    NODE_OPTIONS: withPreload(base['NODE_OPTIONS']),
    COLDSTART_PROFILE_DIR: dir,
    COLDSTART_PROFILE_COVERAGE: coverage ? '1' : '0',
    COLDSTART_LAZY_RECORDS: join(dir, 'lazy.jsonl'),
  };
}
