// How the resolver's inner steps stop early: a certain failure (Node would throw this code) or
// a give-up (some fact is unknown or the case is not implemented, so Node must decide).
import type { Resolution } from './view.js';

export type NotFoundCode = Extract<Resolution, { kind: 'not-found' }>['code'];

/** Node would certainly fail with `code`; `message` is shaped like Node's own. */
export class Failure {
  constructor(readonly code: NotFoundCode, readonly message: string) {}
}

/** The resolver cannot answer; the hook must call Node. Thrown, never shown to users. */
export class GiveUp {
  constructor(readonly reason: string) {}
}

export function giveUp(reason: string): never {
  throw new GiveUp(reason);
}

export function fail(code: NotFoundCode, message: string): never {
  throw new Failure(code, message);
}
