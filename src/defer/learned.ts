// Learned deferral, the analysis half: which top-level requires of a CommonJS module can load at
// first use without the program noticing, and the rewrite that makes them do so. Pure: source
// in, decisions and text out. `coldstart pack --lazy` runs it over every module a recorded
// program loaded, with the load graph the recording saw; a served run parses nothing.
// Why each rule exists: docs/decisions/learned-deferral.md.
import { learnedLoadKey, viaFrame } from '../lazy/learned-records.js';
import { isBuiltin } from 'node:module';
import MagicString from 'magic-string';
import { specifierPrefix } from './detect.js';
import { keepLines, member, parse, planProgram, position, rewriteReferences, simpleObjectPattern, uniqueName, type DeferPlan, type DeferSite } from './sites.js';
import { findReferences, hasDynamicScope, strictBody, type Node, type Reference } from './scope.js';
import { innermostOf } from './innermost.js';

/** Process state that a module may read as it loads and the program may change: a variable of
 *  process.env (`env:NAME`, `env:*` for any), process.argv, the working directory. */
export type ProcessState = `env:${string}` | 'argv' | 'cwd';

/** A top-level require a module makes while it evaluates (any `require("x")` outside a function). */
export interface EagerRequire {
  readonly specifier: string;
}

export interface ModuleFacts {
  /** Why loading this module has effects beyond its exports (undefined: none the parser can see). */
  readonly sideEffect: string | undefined;
  /** Every require call it makes while it evaluates, deferrable or not. */
  readonly eagerRequires: readonly string[];
  /** Declarations that could load at first use, if their target is safe to defer. */
  readonly candidates: readonly DeferSite[];
  /** Whether it may change its own exports after it has loaded (a function writes them). */
  readonly exportsChangeLater: boolean;
  /** Where its load-time code changes what another module reads as it loads: `process.env` and
   *  `process.argv` written, `process.chdir()`, shared objects frozen. A load that waits past one sees it. */
  readonly stateWrites: readonly number[];
  /** What process state its load-time code reads (`process.env`, `process.argv`, `process.cwd()`):
   *  a load that waits may read it after the program changed it. */
  readonly stateReads: readonly ProcessState[];
  /** What process state any of its code changes, functions included (as stateReads names them),
   *  but writes that put back what was there: the program may change it before a deferred load. */
  readonly stateChanges: readonly ProcessState[];
  /** Whether its exports have a getter that computes its value (anything but `return x` or `return m.x`): read at first use, it may give another value. */
  readonly computedExports: boolean;
  /** The requires whose exports its exports' getters pass on (`get: () => m.x`, TypeScript's re-exports): when those change, its exports change too. */
  readonly reexportGetters: readonly string[];
  /** Whether a function of it replaces `module.exports`: what require() gives changes after load. */
  readonly replacesExportsLater: boolean;
  /** Specifiers of its requires whose exports it writes to, anywhere (`x.level = 1`). */
  readonly writesInto: readonly string[];
  /** An ES module's bare imports (`import "x"`), which learned deferral may drop (DeferSite.bare). */
  readonly bareImports: readonly DeferSite[];
  /** An ES module's static imports and re-exports, in source order, with where each begins. */
  readonly staticImports: readonly { readonly specifier: string; readonly start: number }[];
  /** Where each of `eagerRequires` begins in the source, in the same order. */
  readonly eagerRequireStarts: readonly number[];
  /** For each of `eagerRequires`, whether it may not run on every load (under an `if`, `try`, `&&`, a loop, or in a function called by name). */
  readonly eagerRequireConditional: readonly boolean[];
  /** The specifiers its `import()` calls name as plain strings, anywhere in it. */
  readonly dynamicImports: readonly string[];
  /** Whether it has an `import()` of a computed specifier (`import(name)`), which may name any module. */
  readonly computedImport: boolean;
  /** An ES module's `export * from "x"` specifiers. */
  readonly exportStars: readonly string[];
  /** An ES module that exports a name `module.exports`, which require() returns in place of its namespace. */
  readonly namesModuleExports: boolean;
  /** An ES module that exports a name `then`, which a deferred namespace does not show. */
  readonly namesThen: boolean;
}

/** Names whose properties a module must not write for its loading to be deferrable. */
const sharedObjects = new Set([
  'global', 'globalThis', 'window', 'self', 'process', 'console', 'Buffer', 'require', 'module',
  'Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'BigInt', 'Function', 'Error', 'TypeError', 'RangeError', 'SyntaxError',
  'Promise', 'RegExp', 'Date', 'Map', 'Set', 'WeakMap', 'WeakSet', 'JSON', 'Math', 'Reflect', 'Proxy', 'Intl', 'URL', 'URLSearchParams',
  'Uint8Array', 'ArrayBuffer', 'DataView', 'EventTarget', 'AbortController', 'TextEncoder', 'TextDecoder',
]);

/** process methods that change what others see (listeners, warnings, output, exit, directory). */
const processEffects = new Set(['nextTick', 'loadEnvFile', 'on', 'once', 'addListener', 'prependListener', 'prependOnceListener', 'removeListener', 'removeAllListeners', 'off', 'setMaxListeners', 'emit', 'emitWarning', 'exit', 'abort', 'kill', 'chdir', 'umask', 'setUncaughtExceptionCaptureCallback', 'setSourceMapsEnabled', 'dlopen', 'send', 'disconnect']);

/** Global functions that schedule work: called while a module loads, they run code later. */
const timers = new Set(['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']);

/** Object.defineProperty and friends, whose first argument they change. */
const definers = new Set(['defineProperty', 'defineProperties', 'assign', 'setPrototypeOf', 'set', 'deleteProperty', 'freeze', 'seal', 'preventExtensions']);

/** Calls `enter` on every node under `root`, depth first; `enter` returning false skips the node's children. */
function walkNodes(root: unknown, enter: (node: any) => boolean | void): void {
  if (!root || typeof root !== 'object') return;
  if (Array.isArray(root)) {
    for (const child of root) walkNodes(child, enter);
    return;
  }
  const node = root as Record<string, unknown>;
  if (typeof node['type'] !== 'string' || enter(node) === false) return;
  for (const key in node) {
    const child = node[key];
    if (key !== 'type' && child && typeof child === 'object') walkNodes(child, enter);
  }
}

function rootName(node: Node): string | undefined {
  let current = node;
  while (current.type === 'MemberExpression' || current.type === 'ParenthesizedExpression' || current.type === 'ChainExpression') {
    current = current.type === 'MemberExpression' ? current['object'] : current['expression'];
  }
  return current.type === 'Identifier' ? current['name'] : undefined;
}

function isFunctionLike(node: Node): boolean {
  return node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression';
}

/**
 * The function a call invokes on the spot, `(function () { ... })()` or `(function () { ... })
 * .call(this)` (how LiveScript, CoffeeScript and many UMD builds wrap a whole module), when it
 * takes no parameters: its body runs as the module loads, as top-level code does.
 */
function invokedFunction(call: Node): Node | undefined {
  if (call.type !== 'CallExpression') return undefined;
  let callee = call['callee'] as Node;
  while (callee.type === 'ParenthesizedExpression') callee = callee['expression'];
  if (callee.type === 'MemberExpression' && !callee['computed'] && (callee['property']?.name === 'call' || callee['property']?.name === 'apply')) {
    callee = callee['object'];
    while (callee.type === 'ParenthesizedExpression') callee = callee['expression'];
  }
  const fn = callee.type === 'FunctionExpression' || callee.type === 'ArrowFunctionExpression' ? callee : undefined;
  return fn !== undefined && (fn['params'] as Node[]).length === 0 && !fn['async'] && !fn['generator'] && fn['body']?.type === 'BlockStatement' ? fn : undefined;
}

/** Whether `fn` has a `return` of its own (not one of the functions it defines). */
function returnsEarly(fn: Node): boolean {
  let found = false;
  const visit = (node: any): void => {
    if (found || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (typeof node.type !== 'string' || (isFunctionLike(node) && node !== fn)) return;
    if (node.type === 'ReturnStatement') found = true;
    for (const key in node) if (key !== 'type' && node[key] && typeof node[key] === 'object') visit(node[key]);
  };
  visit(fn['body']);
  return found;
}

/** The module's top-level invoked functions (invokedFunction) that are statements of their own, outermost first. */
function invokedWrappers(program: Node): Node[] {
  const wrappers: Node[] = [];
  const collect = (statements: Node[]): void => {
    for (const statement of statements) {
      if (statement.type !== 'ExpressionStatement') continue;
      let expression = statement['expression'] as Node;
      while (expression.type === 'ParenthesizedExpression' || (expression.type === 'UnaryExpression' && (expression['operator'] === 'void' || expression['operator'] === '!'))) expression = expression.type === 'UnaryExpression' ? expression['argument'] : expression['expression'];
      const fn = invokedFunction(expression);
      if (fn === undefined) continue;
      wrappers.push(fn);
      collect(fn['body']['body'] as Node[]);
    }
  };
  collect(program['body'] as Node[]);
  return wrappers;
}

/**
 * Why a wrapper's own code (its statements, outside the functions it defines) might run one of
 * those functions while the module loads, or `undefined` when it cannot: it calls nothing but
 * `require("…")`, constructs nothing, defines no getter, setter, `toString` or `valueOf`,
 * writes no property but the module's exports, spreads and iterates nothing, and does not
 * return early. Then no function it defines runs before the module has loaded.
 */
function restless(wrapper: Node): string | undefined {
  let reason: string | undefined;
  const exportsTarget = (target: Node): boolean => {
    const base = target.type === 'MemberExpression' ? target['object'] : undefined;
    if (base?.type === 'Identifier') return base['name'] === 'exports' || base['name'] === 'module';
    return base?.type === 'MemberExpression' && base['object']?.type === 'Identifier' && base['object']['name'] === 'module' && base['property']?.name === 'exports';
  };
  const visit = (node: any): void => {
    if (reason !== undefined || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (typeof node.type !== 'string') return;
    if (isFunctionLike(node) && node !== wrapper) return;
    switch (node.type) {
      case 'CallExpression':
        if (requireSpecifier(node) === undefined) reason = 'calls a function';
        break;
      case 'NewExpression':
      case 'TaggedTemplateExpression':
      case 'ImportExpression':
      case 'ClassDeclaration':
      case 'ClassExpression':
      case 'ForOfStatement':
      case 'ForInStatement':
      case 'SpreadElement':
      case 'YieldExpression':
      case 'AwaitExpression':
      case 'WithStatement':
      case 'ReturnStatement':
        reason = node.type;
        break;
      case 'Property':
        if (node.kind !== 'init' || node.computed || ['toString', 'valueOf', 'toJSON'].includes(node.key?.name ?? node.key?.value)) reason = 'defines an accessor or a conversion';
        break;
      case 'UnaryExpression':
        if (node.operator === 'delete') reason = 'deletes';
        break;
      case 'AssignmentExpression':
      case 'UpdateExpression': {
        const target = node.type === 'AssignmentExpression' ? node.left : node.argument;
        if (target.type === 'MemberExpression' && !exportsTarget(target)) reason = 'writes a property';
        break;
      }
    }
    for (const key in node) {
      if (key === 'type') continue;
      const child = node[key];
      if (child && typeof child === 'object') visit(child);
    }
  };
  visit(wrapper['body']);
  return reason;
}

/**
 * Whether an `if` test is true in every CommonJS module: a conjunction of `typeof module` /
 * `typeof exports` checks against "undefined" or "object", `module != null` checks and
 * `module.exports === exports`. It opens the CommonJS branch of a UMD wrapper, whose `else`
 * branches (writing `window.X`, `self.X`) never run in Node. `moduleExportsAssigned`: the file
 * assigns module.exports elsewhere, and then `module.exports === exports` may be false.
 */
function commonJsTrue(test: Node, moduleExportsAssigned: boolean): boolean {
  let node = test;
  while (node.type === 'ParenthesizedExpression') node = node['expression'];
  if (node.type === 'LogicalExpression' && node['operator'] === '&&') return commonJsTrue(node['left'], moduleExportsAssigned) && commonJsTrue(node['right'], moduleExportsAssigned);
  if (node.type !== 'BinaryExpression') return false;
  const op = node['operator'] as string;
  const [left, right] = [node['left'] as Node, node['right'] as Node];
  const name = (n: Node): string | undefined => (n.type === 'Identifier' ? n['name'] : undefined);
  const typeofOf = (n: Node): string | undefined => (n.type === 'UnaryExpression' && n['operator'] === 'typeof' ? name(n['argument']) : undefined);
  const literal = (n: Node): unknown => (n.type === 'Literal' ? n['value'] : n.type === 'Identifier' && n['name'] === 'undefined' ? undefined : Symbol.for('none'));
  const wrapperName = (n: string | undefined): boolean => n === 'module' || n === 'exports';
  if (wrapperName(typeofOf(left))) {
    const value = literal(right);
    return ((op === '!==' || op === '!=') && value === 'undefined') || ((op === '===' || op === '==') && value === 'object');
  }
  if (wrapperName(name(left)) && (op === '!==' || op === '!=')) return literal(right) === null || (op === '!=' && literal(right) === undefined);
  if ((op === '===' || op === '==') && !moduleExportsAssigned) {
    const isModuleExports = (n: Node): boolean => n.type === 'MemberExpression' && !n['computed'] && name(n['object']) === 'module' && n['property']?.name === 'exports';
    return (isModuleExports(left) && name(right) === 'exports') || (isModuleExports(right) && name(left) === 'exports');
  }
  return false;
}

/** Every name the file declares anywhere (any scope): an assignment to anything else writes a global. */
function declaredNames(program: Node): Set<string> {
  const names = new Set<string>(['exports', 'module', 'require', '__filename', '__dirname', 'arguments', 'undefined']);
  const add = (pattern: Node | null | undefined): void => {
    if (!pattern) return;
    if (pattern.type === 'Identifier') names.add(pattern['name']);
    else if (pattern.type === 'ObjectPattern') for (const p of pattern['properties']) add(p.type === 'RestElement' ? p.argument : p.value);
    else if (pattern.type === 'ArrayPattern') for (const e of pattern['elements']) add(e);
    else if (pattern.type === 'RestElement') add(pattern['argument']);
    else if (pattern.type === 'AssignmentPattern') add(pattern['left']);
  };
  const walk = (node: any): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) walk(child);
      return;
    }
    if (typeof node.type !== 'string') return;
    if (node.type === 'VariableDeclarator') add(node.id);
    else if ((node.type === 'FunctionDeclaration' || node.type === 'ClassDeclaration' || node.type === 'FunctionExpression' || node.type === 'ClassExpression') && node.id) names.add(node.id.name);
    if (isFunctionLike(node)) for (const param of node.params ?? []) add(param);
    if (node.type === 'CatchClause') add(node.param);
    for (const key in node) {
      const child = node[key];
      if (child && typeof child === 'object') walk(child);
    }
  };
  walk(program);
  return names;
}

/** Whether the file itself declares `name` (a variable, function, class, parameter or catch name). */
function ownDeclaration(program: Node, name: string): boolean {
  let found = false;
  const names = (pattern: Node | null | undefined): string[] => (pattern ? patternNamesOf(pattern) : []);
  const visit = (node: any): void => {
    if (found || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (typeof node.type !== 'string') return;
    if (node.type === 'VariableDeclarator' && names(node.id).includes(name)) found = true;
    if ((node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ClassDeclaration') && node.id?.name === name) found = true;
    if (isFunctionLike(node) && (node.params as Node[]).some((param) => names(param).includes(name))) found = true;
    if (node.type === 'CatchClause' && names(node.param).includes(name)) found = true;
    for (const key in node) if (key !== 'type' && node[key] && typeof node[key] === 'object') visit(node[key]);
  };
  visit(program['body']);
  return found;
}

/** The names a declarator's pattern binds. */
function patternNamesOf(pattern: Node): string[] {
  if (pattern.type === 'Identifier') return [pattern['name']];
  if (pattern.type === 'ObjectPattern') return (pattern['properties'] as Node[]).flatMap((p) => patternNamesOf(p.type === 'RestElement' ? p['argument'] : p['value']));
  if (pattern.type === 'ArrayPattern') return (pattern['elements'] as (Node | null)[]).flatMap((e) => (e ? patternNamesOf(e) : []));
  if (pattern.type === 'AssignmentPattern') return patternNamesOf(pattern['left']);
  return [];
}

/** `(require("x"))`, `require("x").y` -> the require call. */
function unwrap(node: Node): Node {
  let current = node;
  while (current.type === 'ParenthesizedExpression' || (current.type === 'MemberExpression' && !current['computed'])) current = current.type === 'MemberExpression' ? current['object'] : current['expression'];
  return current;
}

/** `process.env.X`, `process.env[key]`: a member of the environment. */
function isProcessEnvMember(node: Node): boolean {
  if (node.type !== 'MemberExpression') return false;
  const object = node['object'];
  return object.type === 'MemberExpression' && !object['computed'] && object['property']?.name === 'env' && object['object'].type === 'Identifier' && object['object'].name === 'process';
}

/** `a.b.c` for a chain of plain names, else undefined. */
function memberPath(node: Node): string | undefined {
  if (node.type === 'Identifier') return node['name'];
  if (node.type !== 'MemberExpression' || node['computed']) return undefined;
  const object = memberPath(node['object']);
  return object === undefined ? undefined : `${object}.${node['property'].name}`;
}

/**
 * Writes that a function undoes itself: `const previous = report.excludeNetwork;
 * report.excludeNetwork = true; ...; report.excludeNetwork = previous;` (rollup's native.js), or
 * the write in a `try` and the restore in its `finally`. The save is a `const`, the write and the
 * restore are statements of the same list (the restore in the `finally` of a `try` at that
 * place), and nothing between them leaves the list early (`return`, `throw`, `break`,
 * `continue`): a restore in a branch, or after an early return, may not run. Returns the
 * assignment targets of such writes and restores.
 */
function restoredWrites(program: Node): Set<Node> {
  const exempt = new Set<Node>();
  // `K = value` as a statement of its own: [path, target, value].
  const assignment = (statement: Node | undefined): [string, Node, Node] | undefined => {
    const expression = statement?.type === 'ExpressionStatement' ? statement['expression'] : undefined;
    if (expression?.type !== 'AssignmentExpression' || expression['operator'] !== '=') return undefined;
    const path = memberPath(expression['left']);
    // process.env stores strings: putting back an unset variable sets it to "undefined".
    return path !== undefined && path.includes('.') && !path.startsWith('process.env.') ? [path, expression['left'], expression['right']] : undefined;
  };
  const leaves = (node: Node): boolean => {
    let found = false;
    walkNodes(node, (inner) => {
      if (isFunctionLike(inner)) return false;
      // Leaving early, or letting other code run (and see the value) before the restore.
      if (['ReturnStatement', 'ThrowStatement', 'BreakStatement', 'ContinueStatement', 'AwaitExpression', 'YieldExpression'].includes(inner.type)) found = true;
      return !found;
    });
    return found;
  };
  const scanList = (list: Node[]): void => {
    list.forEach((statement, i) => {
      if (statement.type !== 'VariableDeclaration' || statement['kind'] !== 'const') return;
      for (const declarator of statement['declarations'] as Node[]) {
        const path = declarator['init'] ? memberPath(declarator['init']) : undefined;
        if (declarator['id']?.type !== 'Identifier' || path === undefined || !path.includes('.')) continue;
        const saved = declarator['id'].name;
        const restores = (value: Node): boolean => value.type === 'Identifier' && value['name'] === saved;
        // The write, then (maybe after other statements) the restore, in this list.
        for (let j = i + 1; j < list.length; j++) {
          const write = assignment(list[j]);
          const guarded = list[j]!.type === 'TryStatement' ? list[j]! : undefined;
          if (guarded !== undefined && guarded['finalizer']) {
            // try { K = x; ... } finally { K = saved; }
            const first = assignment((guarded['block']['body'] as Node[])[0]);
            const last = (guarded['finalizer']['body'] as Node[]).map(assignment).find((found) => found?.[0] === path && restores(found[2]));
            if (first?.[0] === path && last !== undefined) {
              exempt.add(first[1]);
              exempt.add(last[1]);
            }
            break;
          }
          if (write?.[0] !== path) {
            if (leaves(list[j]!)) break;
            continue;
          }
          for (let k = j + 1; k < list.length; k++) {
            const restore = assignment(list[k]);
            if (restore?.[0] === path && restores(restore[2])) {
              exempt.add(write[1]);
              exempt.add(restore[1]);
              break;
            }
            if (leaves(list[k]!)) break;
          }
          break;
        }
      }
    });
  };
  walkNodes(program, (node) => {
    if (node.type === 'Program' || node.type === 'BlockStatement' || node.type === 'StaticBlock') scanList(node['body'] as Node[]);
    return true;
  });
  return exempt;
}

/**
 * The targets of writes to process.env made by a setter of one variable from a parameter:
 * `function save(value) { if (value) process.env.K = value; else delete process.env.K; }`, the
 * shape of debug's `save`. Such a write sets the variable to what the caller passes; the recorded
 * runs tell whether that was the value just read from it (RunEvidence.envWritesBack).
 */
function envSetterWrites(program: Node): Set<Node> {
  const found = new Set<Node>();
  const single = (statement: Node | null | undefined): Node | undefined => {
    if (statement?.type === 'BlockStatement') return statement['body'].length === 1 ? single(statement['body'][0]) : undefined;
    return statement?.type === 'ExpressionStatement' ? statement['expression'] : undefined;
  };
  const key = (member: Node): string | undefined => (isProcessEnvMember(member) ? (member['computed'] ? (member['property'].type === 'Literal' ? String(member['property'].value) : undefined) : member['property'].name) : undefined);
  walkNodes(program, (node) => {
    if (!isFunctionLike(node)) return true;
    const params = new Set((node['params'] as Node[]).filter((param) => param.type === 'Identifier').map((param) => param['name'] as string));
    walkNodes(node['body'], (inner) => {
      if (inner !== node['body'] && isFunctionLike(inner)) return false;
      if (inner.type !== 'IfStatement' || inner['test'].type !== 'Identifier' || !params.has(inner['test'].name)) return true;
      const set = single(inner['consequent']);
      const clear = single(inner['alternate']);
      if (set?.type !== 'AssignmentExpression' || set['operator'] !== '=' || set['right'].type !== 'Identifier' || set['right'].name !== inner['test'].name) return true;
      if (clear?.type !== 'UnaryExpression' || clear['operator'] !== 'delete') return true;
      const name = key(set['left']);
      if (name !== undefined && name === key(clear['argument'])) {
        found.add(set['left']);
        found.add(clear['argument']);
      }
      return true;
    });
    return true;
  });
  return found;
}

/** Whether `node` is the left side's target of an export: `exports.x`, `module.exports(.x)`. */
function exportTarget(node: Node): boolean {
  const root = rootName(node);
  return node.type === 'MemberExpression' && (root === 'exports' || (root === 'module' && memberPath(node)?.startsWith('module.exports') === true));
}

/**
 * Code the recorded runs never executed and loading cannot reach in another environment, asked
 * of the offset of a write (V8's function counts in `neverRan`). The write's function, and the
 * functions around it up to G, the outermost that never ran, were not called; what runs at load
 * reaches G only by a reference in code that ran. So G is trusted when it is bound to a name
 * that no code that ran reads (a call, an argument, an assignment: exports apart, which are what
 * other modules call later), or when it has no name and is itself an export's value
 * (`exports.install = function () { ... }`). A function defined in code that ran without a
 * name (an object's method, a callback) is not: the code that made it may call it.
 */
function unreachedCode(program: Node, neverRan: (offset: number) => boolean): (offset: number) => boolean {
  interface Fn {
    readonly node: Node;
    readonly parent: Fn | undefined;
    name?: string;
    exported?: boolean;
  }
  const fns: Fn[] = [];
  const references = new Map<string, { at: number; exported: boolean }[]>();
  const fnRan = (fn: Fn): boolean => !neverRan(fn.node['body']?.type === 'BlockStatement' ? fn.node['body'].start : fn.node.start);
  const visit = (node: any, parent: any, key: string, fn: Fn | undefined, exporting: boolean): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child, parent, key, fn, exporting);
      return;
    }
    if (typeof node.type !== 'string') return;
    let inner = fn;
    if (isFunctionLike(node)) {
      inner = { node, parent: fn };
      if (node.type === 'FunctionDeclaration' && node.id) inner.name = node.id.name;
      else if (parent?.type === 'VariableDeclarator' && key === 'init' && parent.id?.type === 'Identifier') inner.name = parent.id.name;
      if (exporting) inner.exported = true;
      fns.push(inner);
    }
    if (node.type === 'Identifier') {
      const declaration = (parent?.type === 'FunctionDeclaration' || parent?.type === 'FunctionExpression' || parent?.type === 'VariableDeclarator' || parent?.type === 'ClassDeclaration') && key === 'id';
      const property = (parent?.type === 'MemberExpression' && key === 'property' && !parent.computed) || (parent?.type === 'Property' && key === 'key' && !parent.computed && !parent.shorthand);
      if (!declaration && !property) {
        const list = references.get(node.name) ?? [];
        list.push({ at: node.start, exported: exporting || parent?.type === 'ExportSpecifier' });
        references.set(node.name, list);
      }
      return;
    }
    for (const k in node) {
      if (k === 'type') continue;
      const child = node[k];
      if (!child || typeof child !== 'object') continue;
      // What an export holds: the value of `exports.x = …`, `module.exports = { … }`, `export default …`.
      let childExporting = exporting && (node.type === 'ObjectExpression' || node.type === 'Property') ;
      if (node.type === 'AssignmentExpression' && k === 'right' && node.operator === '=' && exportTarget(node.left)) childExporting = true;
      if ((node.type === 'ExportDefaultDeclaration' || node.type === 'ExportNamedDeclaration') && k === 'declaration') childExporting = true;
      visit(child, node, k, isFunctionLike(node) ? inner : fn, childExporting);
    }
  };
  visit(program['body'], program, 'body', undefined, false);
  const findFn = innermostOf(fns.map((fn) => [fn.node.start, fn.node.end] as const));
  const innermost = (offset: number): Fn | undefined => fns[findFn(offset)];
  /** The outermost of the functions around `offset` that never ran (undefined: code that ran). */
  const unrunRoot = (offset: number): Fn | undefined => {
    let g = innermost(offset);
    if (g === undefined || fnRan(g)) return undefined;
    while (g.parent !== undefined && !fnRan(g.parent)) g = g.parent;
    return g;
  };
  // Whether code that ran calls through the module's own exports (`exports.install()`,
  // `(0, exports.install)()`, `module.exports.setup()`, `this.init()`): then what it exports may
  // run at load too.
  let callsOwnExports = false;
  walkNodes(program['body'], (node) => {
    if (callsOwnExports) return false;
    if (node.type === 'CallExpression' || node.type === 'NewExpression') {
      let callee = node.callee;
      while (callee?.type === 'ParenthesizedExpression' || callee?.type === 'ChainExpression' || callee?.type === 'SequenceExpression') {
        callee = callee.type === 'SequenceExpression' ? callee.expressions[callee.expressions.length - 1] : callee.expression;
      }
      let root = callee;
      while (root?.type === 'MemberExpression') root = root.object;
      const own = callee?.type === 'MemberExpression' && (root?.type === 'ThisExpression' || (root?.type === 'Identifier' && (root.name === 'exports' || root.name === 'module')));
      if (own && !neverRan(node.start)) callsOwnExports = true;
    }
    return true;
  });
  // Whether loading may reach G: by a reference in code that ran, or in a function that loading
  // may reach (the same question, asked of the outermost unrun function around the reference).
  const reachable = new Map<Fn, boolean>();
  const mayReach = (g: Fn): boolean => {
    const known = reachable.get(g);
    if (known !== undefined) return known;
    reachable.set(g, false); // a cycle of references adds nothing
    let reached: boolean;
    if (g.name === undefined) reached = !(g.exported === true && !callsOwnExports);
    else {
      const own = g.node;
      reached = (references.get(g.name) ?? []).some((ref) => {
        if (ref.at >= own.start && ref.at < own.end) return false;
        if (ref.exported && !callsOwnExports) return false;
        const around = unrunRoot(ref.at);
        return around === undefined || mayReach(around);
      });
    }
    reachable.set(g, reached);
    return reached;
  };
  return (offset) => {
    if (!neverRan(offset)) return false;
    const g = unrunRoot(offset);
    return g !== undefined && !mayReach(g);
  };
}

/** `require("x")` -> "x" (a string literal argument only). */
function requireSpecifier(node: Node): string | undefined {
  if (node.type !== 'CallExpression' || node['callee'].type !== 'Identifier' || node['callee'].name !== 'require') return undefined;
  const [argument] = node['arguments'] as Node[];
  return node['arguments'].length === 1 && argument?.type === 'Literal' && typeof argument['value'] === 'string' ? argument['value'] : undefined;
}

/**
 * What the module does while it evaluates, as far as the parser can tell: the requires it makes
 * and the first effect it has beyond its own exports. Writes to shared objects count wherever
 * they are (a top-level call may run any function of the file); calls on process and console
 * count at the top level only.
 */
/** What the recorded runs showed about a module's code, where they showed it (learn.ts). */
export interface RunEvidence {
  /** Whether no recorded run called the function holding an offset of the source (V8's coverage). */
  readonly neverRan?: ((offset: number) => boolean) | undefined;
  /** Every write to process.env the recorded runs saw from this file put back the value it had
   *  just read from the same variable (or deleted one it had read as unset). */
  readonly envWritesBack?: boolean | undefined;
}

/** A function, or an object literal holding one: code of the module handed to a call. */
function wrapsOwnCode(argument: Node): boolean {
  let node = argument;
  while (node.type === 'ParenthesizedExpression') node = node['expression'];
  if (isFunctionLike(node)) return true;
  return node.type === 'ObjectExpression' && (node['properties'] as Node[]).some((property) => property.type === 'Property' && (property['method'] || isFunctionLike(property['value'])));
}

/**
 * What each module-scope name is bound to where the file says so: a function or class
 * declaration (exported or not), or a declarator's value with its parentheses and plain member
 * reads taken off (`const f = () => …`, `const App = class {}`, `const cli = { … }`).
 */
function moduleScopeValues(program: Node): Map<string, Node> {
  const values = new Map<string, Node>();
  for (const statement of program['body'] as Node[]) {
    const declaration = statement.type === 'ExportNamedDeclaration' || statement.type === 'ExportDefaultDeclaration' ? statement['declaration'] : statement;
    if ((declaration?.type === 'FunctionDeclaration' || declaration?.type === 'ClassDeclaration') && declaration['id']) values.set(declaration['id'].name, declaration);
    if (declaration?.type !== 'VariableDeclaration') continue;
    for (const declarator of declaration['declarations'] as Node[]) {
      if (declarator['id']?.type === 'Identifier' && declarator['init']) values.set(declarator['id'].name, unwrap(declarator['init']));
    }
  }
  return values;
}

const isClass = (node: Node): boolean => node.type === 'ClassDeclaration' || node.type === 'ClassExpression';

/**
 * The getters a CommonJS module defines on its own exports at its top level
 * (`Object.defineProperty(exports, "x", { get })`, `Object.defineProperties`, a getter in `module.exports = { get x() {} }`):
 * whether one computes its value, and the requires whose exports the others pass on.
 */
function exportGetters(program: Node): { computes: boolean; reexports: string[] } {
  const required = new Map<string, string>();
  for (const statement of program['body'] as Node[]) {
    if (statement.type !== 'VariableDeclaration') continue;
    for (const declarator of statement['declarations'] as Node[]) {
      const specifier = declarator['init'] ? requireSpecifier(unwrap(declarator['init']).type === 'CallExpression' ? unwrap(declarator['init']) : declarator['init']) : undefined;
      if (declarator['id']?.type === 'Identifier' && specifier !== undefined) required.set(declarator['id'].name, specifier);
    }
  }
  let computes = false;
  const reexports: string[] = [];
  const getter = (fn: Node | undefined): void => {
    if (fn === undefined || !isFunctionLike(fn)) return;
    const body = fn['body'];
    const returned = body?.type === 'BlockStatement' ? (body['body'].length === 1 && body['body'][0].type === 'ReturnStatement' ? body['body'][0]['argument'] : undefined) : body;
    let value = returned;
    while (value?.type === 'ParenthesizedExpression') value = value['expression'];
    if (value?.type === 'Identifier') return;
    if (value?.type === 'MemberExpression' && value['object']?.type === 'Identifier') {
      const from = required.get(value['object'].name);
      if (from !== undefined) reexports.push(from);
      return;
    }
    computes = true;
  };
  const descriptor = (node: Node | undefined): void => {
    if (node?.type !== 'ObjectExpression') return;
    for (const property of node['properties'] as Node[]) {
      if (property.type === 'Property' && !property['computed'] && (property['key']?.name ?? property['key']?.value) === 'get') getter(unwrap(property['value']));
    }
  };
  const ownExports = (node: Node | undefined): boolean => node !== undefined && ['exports', 'module.exports'].includes(memberPath(node) ?? '');
  for (const statement of program['body'] as Node[]) {
    const expression = statement.type === 'ExpressionStatement' ? unwrap(statement['expression']) : undefined;
    if (expression?.type === 'CallExpression' && memberPath(expression['callee']) === 'Object.defineProperty' && ownExports(expression['arguments'][0])) descriptor(expression['arguments'][2]);
    else if (expression?.type === 'CallExpression' && memberPath(expression['callee']) === 'Object.defineProperties' && ownExports(expression['arguments'][0]) && expression['arguments'][1]?.type === 'ObjectExpression') {
      for (const property of expression['arguments'][1]['properties'] as Node[]) descriptor(property['value']);
    } else if (expression?.type === 'AssignmentExpression' && ownExports(expression['left']) && unwrap(expression['right']).type === 'ObjectExpression') {
      for (const property of unwrap(expression['right'])['properties'] as Node[]) if (property['kind'] === 'get') getter(property['value']);
    }
  }
  return { computes, reexports };
}

/**
 * Module-scope names bound once, by `const`, to a shared object or a member of one (`const g =
 * globalThis`, `const AP = Array.prototype`, `const plugins = global[Symbol.for("k")]`), with
 * the shared name each stands for: a write or a call through one is made on that object.
 */
function sharedAliases(program: Node, declared: ReadonlySet<string>): Map<string, string> {
  const aliases = new Map<string, string>();
  const counts = moduleScopeDeclarations(program);
  for (const statement of program['body'] as Node[]) {
    if (statement.type !== 'VariableDeclaration' || statement['kind'] !== 'const') continue;
    for (const declarator of statement['declarations'] as Node[]) {
      if (declarator['id']?.type !== 'Identifier' || !declarator['init'] || counts.get(declarator['id'].name) !== 1) continue;
      let init = declarator['init'] as Node;
      while (init.type === 'ParenthesizedExpression') init = init['expression'];
      if (init.type !== 'Identifier' && init.type !== 'MemberExpression') continue;
      const root = rootName(init);
      // `const m = module`, `const e = module.exports`: the module's own exports, not the loader.
      const path = memberPath(init);
      if (root === 'module' && (path === undefined || path === 'module' || path.startsWith('module.exports'))) continue;
      if (root === 'require' && path === 'require') continue;
      const base = root === undefined ? undefined : (aliases.get(root) ?? (sharedObjects.has(root) && (!declared.has(root) || root === 'module' || root === 'require') ? root : undefined));
      if (base !== undefined) aliases.set(declarator['id'].name, base);
    }
  }
  return aliases;
}

function evaluationFacts(program: Node, commonjs = true, evidence: RunEvidence = {}, loadTime: readonly [number, number][] = []): { sideEffect: string | undefined; eagerRequires: string[]; eagerRequireStarts: number[]; eagerRequireConditional: boolean[]; functionRanges: [number, number][]; invokedStarts: Set<number>; topLevelAwait: boolean } {
  const declared = declaredNames(program);
  const aliasOf = sharedAliases(program, declared);
  // Module-scope async functions, by name (declared, or bound by const, let or var).
  const asyncLocals = new Set([...moduleScopeValues(program)].filter(([, value]) => isFunctionLike(value) && value['async']).map(([name]) => name));
  const unreached = evidence.neverRan === undefined ? () => false : unreachedCode(program, evidence.neverRan);
  // Where the file first assigns module.exports: a UMD test `module.exports === exports` placed
  // after it may be false.
  let firstModuleExportsWrite = Number.POSITIVE_INFINITY;
  const findWrites = (node: any): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) findWrites(child);
      return;
    }
    if (node.type === 'AssignmentExpression' && node.left?.type === 'MemberExpression' && node.left.object?.type === 'Identifier' && node.left.object.name === 'module' && node.left.property?.name === 'exports') {
      firstModuleExportsWrite = Math.min(firstModuleExportsWrite, node.start);
    }
    for (const key in node) {
      const child = node[key];
      if (key !== 'type' && child && typeof child === 'object') findWrites(child);
    }
  };
  if (commonjs) findWrites(program['body']);
  // Where the names module and exports occur as variables, and whether the file declares either:
  // a UMD test is trusted only when every one of them is in the `if` itself.
  const wrapperNames: number[] = [];
  let wrapperNamesDeclared = false;
  const findNames = (node: any, parent: any, key: string): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) findNames(child, parent, key);
      return;
    }
    if (node.type === 'Identifier' && (node.name === 'module' || node.name === 'exports')) {
      const property = (parent?.type === 'MemberExpression' && key === 'property' && !parent.computed) || (parent?.type === 'Property' && key === 'key' && !parent.computed);
      if (!property) wrapperNames.push(node.start);
      return;
    }
    for (const k in node) {
      const child = node[k];
      if (k !== 'type' && child && typeof child === 'object') findNames(child, node, k);
    }
  };
  if (commonjs) {
    findNames(program['body'], undefined, '');
    // declaredNames counts the CommonJS wrapper's own parameters: look for the file's declarations.
    wrapperNamesDeclared = ['module', 'exports'].some((name) => ownDeclaration(program, name));
  }
  const umdBranch = (node: Node): boolean =>
    !wrapperNamesDeclared && wrapperNames.every((at) => at >= node.start && at < node.end) && commonJsTrue(node['test'], firstModuleExportsWrite < node.start);
  // Names bound to a builtin module (`const fs = require("fs")`): writing their properties
  // patches Node for every module (graceful-fs patches fs this way).
  const builtinBindings = new Set<string>();
  // Names bound to another package's or file's module: a call of one of its methods while this
  // module loads may register something there (a plugin, a locale, a helper) that others read.
  const moduleBindings = new Set<string>();
  // Those bound to a part of the module (`const { add } = require("reg")`, `import { add }`):
  // most likely a function, which handed to a call (`names.forEach(add)`) may register.
  const partBindings = new Set<string>();
  // A builtin's function a name is bound to (`import { writeSync } from "fs"`, `const { log } =
  // require("console")`, `const log = console.log`): calling it while the module loads may print or write.
  const builtinFunctions = new Map<string, { module: string; name: string }>();
  // The builtin a name holds whole (`import fs from "fs"`, `import * as fs`, `const fs = require("fs")`).
  const builtinOfBinding = new Map<string, string>();
  const builtinName = (specifier: string): string => specifier.replace(/^node:/, '');
  for (const statement of program['body'] as Node[]) {
    // An ES module's imports bind other modules too (`import dotenv from "dotenv"; dotenv.config()`).
    if (statement.type === 'ImportDeclaration' && statement['importKind'] !== 'type') {
      const specifier = String(statement['source'].value);
      for (const specifierNode of statement['specifiers'] as Node[]) {
        (isBuiltin(specifier) ? builtinBindings : moduleBindings).add(specifierNode['local'].name);
        if (specifierNode.type === 'ImportSpecifier' && !isBuiltin(specifier)) partBindings.add(specifierNode['local'].name);
        if (specifierNode.type !== 'ImportSpecifier' && isBuiltin(specifier)) builtinOfBinding.set(specifierNode['local'].name, builtinName(specifier));
        if (specifierNode.type === 'ImportSpecifier' && isBuiltin(specifier)) {
          const imported = specifierNode['imported'];
          builtinFunctions.set(specifierNode['local'].name, { module: builtinName(specifier), name: imported.name ?? String(imported.value) });
        }
      }
      continue;
    }
    if (statement.type !== 'VariableDeclaration') continue;
    for (const declarator of statement['declarations'] as Node[]) {
      const init = declarator['init'];
      const specifier = init ? requireSpecifier(unwrap(init)) : undefined;
      if (specifier === undefined) {
        // `const log = console.log` (or `.bind(console)`): console's own function under another name.
        let value = init;
        if (value?.type === 'CallExpression' && value['callee']?.type === 'MemberExpression' && value['callee']['property']?.name === 'bind') value = value['callee']['object'];
        if (declarator['id'].type === 'Identifier' && value?.type === 'MemberExpression' && !value['computed'] && rootName(value) === 'console' && !declared.has('console')) {
          builtinFunctions.set(declarator['id'].name, { module: 'console', name: value['property'].name });
        }
        continue;
      }
      for (const name of patternNamesOf(declarator['id'])) {
        (isBuiltin(specifier) ? builtinBindings : moduleBindings).add(name);
        if (!isBuiltin(specifier) && (declarator['id'].type !== 'Identifier' || unwrap(init) !== init)) partBindings.add(name);
      }
      if (isBuiltin(specifier) && declarator['id'].type === 'Identifier') builtinOfBinding.set(declarator['id'].name, builtinName(specifier));
      if (isBuiltin(specifier) && declarator['id'].type === 'ObjectPattern') {
        for (const property of declarator['id']['properties'] as Node[]) {
          if (property.type === 'Property' && !property['computed'] && property['value']?.type === 'Identifier') {
            builtinFunctions.set(property['value'].name, { module: builtinName(specifier), name: property['key'].name ?? String(property['key'].value) });
          }
        }
      }
    }
  }
  // Names made from another module, builtins included, through members and calls
  // (`const reg = require("registry").makeRegistrar("k")`, `const log = util.debuglog("x")`,
  // `const add = reg.add`): calling one for what it does may register or print, as a call of the
  // module's own functions may.
  const madeBindings = new Set<string>();
  const madeFrom = (node: Node | null | undefined): boolean => {
    let at = node;
    let steps = 0;
    while (at) {
      if (at.type === 'ParenthesizedExpression' || at.type === 'ChainExpression' || at.type === 'AwaitExpression') at = at['expression'] ?? at['argument'];
      else if (at.type === 'MemberExpression') {
        steps++;
        at = at['object'];
      } else if (at.type === 'CallExpression') {
        if (requireSpecifier(at) !== undefined) return steps > 0;
        // A bundler's wrapper of the module's own code (`__esmMin(() => {…})`, `__commonJS({ "f"() {…} })`):
        // calling what it makes runs that code, which the rules read where it is.
        if ((at['arguments'] as Node[]).some(wrapsOwnCode)) return false;
        // A require made for the module (`createRequire(import.meta.url)`): what it loads is judged as a require's.
        const callee = at['callee'];
        if ((callee.type === 'Identifier' && callee.name === 'createRequire') || (callee.type === 'MemberExpression' && callee['property']?.name === 'createRequire')) return false;
        steps++;
        at = at['callee'];
      } else if (at.type === 'Identifier') return steps > 0 && (moduleBindings.has(at['name']) || builtinBindings.has(at['name']) || madeBindings.has(at['name']));
      else return false;
    }
    return false;
  };
  for (const statement of program['body'] as Node[]) {
    if (statement.type !== 'VariableDeclaration') continue;
    for (const declarator of statement['declarations'] as Node[]) {
      if (madeFrom(declarator['init'])) for (const name of patternNamesOf(declarator['id'])) if (!moduleBindings.has(name)) madeBindings.add(name);
    }
  }
  const restored = restoredWrites(program);
  const envSetters = evidence.envWritesBack === true ? envSetterWrites(program) : new Set<Node>();
  // In a function the top level calls by name, outside the functions it defines: run at load.
  const duringLoad = (at: number): boolean => loadTime.some(([start, end]) => at >= start && at < end);
  const catches: [number, number][] = [];
  walkNodes(program['body'], (node) => void (node.type === 'CatchClause' && catches.push([node.start, node.end])));
  const catchAt = innermostOf(catches);
  const inCatch = (at: number): boolean => catchAt(at) !== -1;
  /** What of another module `node` names, through members and calls (`reg.add`, `require("x")(…)`, `a.use(b).use`); undefined for none. */
  const otherModule = (node: Node | undefined): string | undefined => {
    let at = node;
    const path: string[] = [];
    while (at !== undefined) {
      if (at.type === 'ParenthesizedExpression' || at.type === 'ChainExpression') at = at['expression'];
      else if (at.type === 'SequenceExpression') at = at['expressions'][at['expressions'].length - 1];
      else if (at.type === 'MemberExpression') {
        path.unshift(at['computed'] ? '[…]' : at['property'].name);
        at = at['object'];
      } else if (at.type === 'CallExpression') {
        const required = requireSpecifier(at);
        if (required !== undefined) return isBuiltin(required) ? undefined : [required, ...path].join('.');
        at = at['callee'];
      } else if (at.type === 'Identifier') return moduleBindings.has(at['name']) || madeBindings.has(at['name']) ? [at['name'], ...path].join('.') : undefined;
      else return undefined;
    }
    return undefined;
  };
  /** Whether calling builtin `module`'s function `name` prints, writes, starts or listens. */
  const builtinEffect = (module: string, name: string): boolean =>
    module === 'console' || module === 'child_process' || module === 'cluster' ||
    (module === 'process' && processEffects.has(name)) ||
    ((module === 'fs' || module === 'fs/promises') && /^(write|append|mkdir|mkdtemp|rm|unlink|rename|copy|cp|symlink|link|chmod|chown|lchmod|lchown|truncate|ftruncate|utimes|futimes|lutimes|open|close|fsync|fdatasync|watch)/.test(name)) ||
    // Asynchronous work started as it loads (a file read, a lookup) finishes whether or not anyone
    // uses the module: waiting, it would start only at first use.
    (module === 'fs' && !name.endsWith('Sync') && /^(read|stat|lstat|access|exists|realpath|readdir|readlink|opendir)/.test(name)) || module === 'fs/promises' || module === 'dns' ||
    // Runtime-deprecated functions, whose first call prints a warning: deferred, it would move.
    (module === 'url' && name === 'parse') || (module === 'util' && deprecatedUtil.has(name));
  // Names bound to a require made for the module (`const load = createRequire(import.meta.url)`): their calls load as require's do.
  const madeRequires = new Set<string>();
  for (const statement of program['body'] as Node[]) {
    if (statement.type !== 'VariableDeclaration') continue;
    for (const declarator of statement['declarations'] as Node[]) {
      const init = declarator['init'];
      const callee = init?.type === 'CallExpression' ? init['callee'] : undefined;
      const made = (callee?.type === 'Identifier' && callee.name === 'createRequire') || (callee?.type === 'MemberExpression' && callee['property']?.name === 'createRequire');
      if (made && declarator['id'].type === 'Identifier' && declarator['id'].name !== 'require') madeRequires.add(declarator['id'].name);
    }
  }
  const loadSpecifier = (node: Node): string | undefined => {
    const specifier = requireSpecifier(node);
    if (specifier !== undefined || node['callee']?.type !== 'Identifier' || !madeRequires.has(node['callee'].name)) return specifier;
    const [argument] = node['arguments'] as Node[];
    return node['arguments'].length === 1 && argument?.type === 'Literal' && typeof argument['value'] === 'string' ? argument['value'] : undefined;
  };
  const eagerRequires: string[] = [];
  const eagerRequireStarts: number[] = [];
  const functionRanges: [number, number][] = [];
  /** Where the functions invoked on the spot while the module loads begin (invokedFunction). */
  const invokedStarts = new Set<number>();
  let sideEffect: string | undefined;
  let topLevelAwait = false;
  const statementCalls = new Set<Node>();
  // An ES module's static imports and re-exports load before its body runs.
  for (const statement of program['body'] as Node[]) {
    if ((statement.type === 'ImportDeclaration' || statement.type === 'ExportAllDeclaration' || statement.type === 'ExportNamedDeclaration') && statement['source']) {
      if (statement['importKind'] !== 'type' && statement['exportKind'] !== 'type') {
        eagerRequires.push(String(statement['source'].value));
        eagerRequireStarts.push(statement.start);
      }
    }
  }
  const effect = (reason: string): void => {
    sideEffect ??= reason;
  };
  const written = (target: Node, inFunction: boolean, atLoad: boolean): void => {
    if (restored.has(target)) return;
    if (inFunction && !atLoad) {
      // In a function no recorded run called, and that loading cannot reach (unreachedCode).
      if (unreached(target.start)) return;
      // process.env set from a parameter (envSetterWrites), in a file whose every write the
      // runs saw put back the value just read from the same variable: debug's `save(load())`.
      if (evidence.envWritesBack === true && envSetters.has(target) && !declared.has('process')) return;
    }
    if (target.type === 'Identifier') {
      if (!declared.has(target['name'])) effect(`assigns the global ${target['name']}`);
      return;
    }
    if (target.type !== 'MemberExpression') return;
    const base = unwrap(target);
    const required = base.type === 'CallExpression' ? requireSpecifier(base) : undefined;
    if (required !== undefined && isBuiltin(required)) {
      effect(`patches the builtin module ${required}`);
      return;
    }
    const root = rootName(target);
    if (root !== undefined && builtinBindings.has(root)) {
      effect(`patches the builtin module bound to ${root}`);
      return;
    }
    // require.extensions, require.cache: the loader every module shares (`require` is the
    // wrapper's own name). Inside a function such writes are what the module offers its callers
    // (import-fresh deletes a cache entry when called, pirates adds a hook when asked), so they
    // count at the top level only, as Error's do.
    if (root === 'require') {
      if (inFunction) return;
      effect(`writes require.${target['object'].type === 'MemberExpression' ? (target['object']['property']?.name ?? '[…]') : (target['property']?.name ?? '[…]')}`);
      return;
    }
    // Into an object another module exports by name, while loading (a command that registers
    // itself: `import { handlers } from "./registry.mjs"; handlers.build = build`): whoever reads
    // the registry after this module loads would miss it if this module waited. A write into a
    // whole module's object (`createDebug.formatters.t = …`, which eslint's helpers make) is taken
    // to configure what this module then uses, as before: counting it kept 52 more modules eager
    // in `eslint --version`.
    if (root !== undefined && partBindings.has(root) && (!inFunction || atLoad || duringLoad(target.start))) {
      effect(`writes into ${root} of another module while it loads`);
      return;
    }
    // Through a local name for a shared object (`const AP = Array.prototype; AP.last = …`).
    const aliased = root === undefined ? undefined : aliasOf.get(root);
    if (aliased !== undefined) {
      if (!inFunction || !['Error', 'require', 'module'].includes(aliased)) effect(`writes ${aliased} through ${root}`);
      return;
    }
    if (root === undefined || (declared.has(root) && root !== 'module')) return;
    if (root === 'module') {
      if (inFunction) return;
      // module.exports.x is the module's own; module.constructor, module.parent, ... are shared.
      let first = target;
      while (first['object'].type === 'MemberExpression') first = first['object'];
      if (first['property']?.name !== 'exports') effect(`writes module.${first['property']?.name ?? '[…]'}`);
    } else if (root === 'Error' && inFunction) {
      // Error.prepareStackTrace / stackTraceLimit set inside a function are, in practice, set and
      // restored around one stack capture (callsites, depd): not a load-time effect.
    } else if (sharedObjects.has(root) && root !== 'exports') {
      effect(`writes ${root}.${target['property']?.name ?? '[…]'}`);
    }
  };
  // `inFunction`: the effect rules' sense (a function's body, an invoked one's too: there only
  // writes to shared objects count); `atLoad`: the code runs while the module loads (the top
  // level, and the body of a function invoked on the spot there), so its requires are eager.
  const walk = (node: any, inFunction: boolean, atLoad = !inFunction): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) walk(child, inFunction, atLoad);
      return;
    }
    if (typeof node.type !== 'string') return;
    // One that may return early has requires that may not run: those are left out, as before.
    const invoked = atLoad ? invokedFunction(node) : undefined;
    if (invoked !== undefined && !returnsEarly(invoked)) {
      invokedStarts.add(invoked.start);
      functionRanges.push([invoked.start, invoked.end]);
      walk(invoked['body'], true, true);
      walk(node.arguments, inFunction, atLoad);
      return;
    }
    // The CommonJS branch of a UMD wrapper: its `else` branches never run in Node.
    if (commonjs && atLoad && node.type === 'IfStatement' && umdBranch(node)) {
      walk(node.test, inFunction, atLoad);
      walk(node.consequent, inFunction, atLoad);
      return;
    }
    let deferred = inFunction;
    let loading = atLoad;
    if (isFunctionLike(node)) {
      deferred = true;
      loading = false;
      functionRanges.push([node.start, node.end]);
    } else if ((node.type === 'PropertyDefinition' || node.type === 'AccessorProperty') && !node.static && node.value) {
      functionRanges.push([node.value.start, node.value.end]);
      walk(node.value, true, false);
      return;
    }
    if (node.type === 'ExpressionStatement') {
      let expression = node.expression;
      while (expression?.type === 'ParenthesizedExpression' || expression?.type === 'ChainExpression' || (expression?.type === 'UnaryExpression' && expression.operator === 'void')) expression = expression.type === 'UnaryExpression' ? expression.argument : expression.expression;
      // Every value of a statement's sequence is dropped (`reg.add("x"), 0`).
      for (let item of expression?.type === 'SequenceExpression' ? expression.expressions : [expression]) {
        while (item?.type === 'ParenthesizedExpression' || item?.type === 'ChainExpression') item = item.expression;
        if (item?.type === 'CallExpression' || item?.type === 'NewExpression') statementCalls.add(item);
      }
    }
    switch (node.type) {
      case 'AssignmentExpression':
        written(node.left, inFunction, atLoad);
        break;
      case 'UpdateExpression':
        written(node.argument, inFunction, atLoad);
        break;
      case 'UnaryExpression':
        if (node.operator === 'delete') written(node.argument, inFunction, atLoad);
        break;
      case 'CallExpression': {
        const specifier = loadSpecifier(node);
        // In the module's functions its top level calls by name too: those requires run at load.
        if (specifier !== undefined && (atLoad || duringLoad(node.start))) {
          eagerRequires.push(specifier);
          eagerRequireStarts.push(node.start);
        }
        // `f?.()`, `(0, m.f)()` (TypeScript's and Babel's calls of imports) call what they name.
        let called = node.callee;
        while (called?.type === 'ParenthesizedExpression' || called?.type === 'ChainExpression' || called?.type === 'SequenceExpression') {
          called = called.type === 'SequenceExpression' ? called.expressions[called.expressions.length - 1] : called.expression;
        }
        const callee = called?.type === 'MemberExpression' ? called : undefined;
        const root = callee ? rootName(callee) : undefined;
        // A call whose value is dropped (a statement of its own) is made for what it does:
        // `registry.add(...)`, `chai.use(...)`, `moment.defineLocale(...)`, `config()` taken from
        // dotenv, `require("x")(...)`, a chain (`chai.use(a).use(b)`), or one handed a function
        // of another module (`names.forEach(reg.add)`). One whose value is kept
        // (`const map = util.toHash([...])`) is taken to be a helper. At the top level, and in the
        // module's functions that loading calls by name.
        if ((!inFunction || duringLoad(node.start)) && statementCalls.has(node)) {
          const handed = (argument: Node): string | undefined =>
            argument.type === 'MemberExpression' || (argument.type === 'Identifier' && (partBindings.has(argument['name']) || madeBindings.has(argument['name']))) ? otherModule(argument) : undefined;
          const other = otherModule(called) ?? (node.arguments as Node[]).map(handed).find((found) => found !== undefined);
          if (other !== undefined) effect(`calls ${other} of another module while it loads`);
          // What the process keeps on its global object is shared as another module's exports
          // are: `globalThis[Symbol.for("app.plugins")].add(…)` registers as `registry.add(…)` does.
          else if (root !== undefined && ['globalThis', 'global', 'self', 'window'].includes(aliasOf.get(root) ?? (declared.has(root) ? '' : root))) effect(`calls ${root}'s ${callee!['property']?.name ?? '[…]'} while it loads`);
        }
        // Code in a function that runs at load, but not in its `catch`: a message printed only when
        // loading fails (fast-levenshtein's, when Intl.Collator throws) is taken as that failure's
        // report, as at the top level before these functions counted. Counting it kept
        // fast-levenshtein and its 67 M-instruction Intl.Collator in `eslint --version`.
        const runsAtLoad = !inFunction || ((atLoad || duringLoad(node.start)) && !inCatch(node.start));
        if (runsAtLoad && !(inFunction && !atLoad && unreached(node.start))) {
          // A builtin's function called by another name, or through globalThis (`globalThis.console.log`).
          const bound = called?.type === 'Identifier' ? builtinFunctions.get(called.name) : undefined;
          const viaGlobal = callee !== undefined && callee['object']?.type === 'MemberExpression' && ['globalThis', 'global'].includes(callee['object']['object']?.name) && !declared.has(callee['object']['object']?.name) ? callee['object']['property']?.name : undefined;
          const method = callee?.['property']?.name;
          const ofBuiltin = root !== undefined && builtinBindings.has(root) && method !== undefined ? builtinFunctions.get(root)?.module ?? builtinOfBinding.get(root) : undefined;
          // A builtin's function called for what it does (its value dropped) changes process-wide
          // state: `dns.setDefaultResultOrder("ipv4first")`, `module.registerHooks(…)`,
          // `events.setMaxListeners(…)`. util.inherits (the module's own classes) and assert's
          // checks (a throw, as a failing load is) are made for the module itself.
          const dropped = statementCalls.has(node) ? (bound !== undefined ? [bound.module, bound.name] : ofBuiltin !== undefined ? [ofBuiltin, method!] : undefined) : undefined;
          if (dropped !== undefined && !(dropped[0] === 'util' && dropped[1] === 'inherits') && !/^assert(\/strict)?$/.test(dropped[0]!)) effect(`calls ${dropped[0]}'s ${dropped[1]} while it loads`);
          else if (bound !== undefined && builtinEffect(bound.module, bound.name)) effect(`calls ${bound.module}'s ${bound.name} while it loads`);
          else if (viaGlobal === 'console' || (viaGlobal === 'process' && processEffects.has(method))) effect(`calls ${viaGlobal}.${method ?? '…'} while it loads`);
          else if (ofBuiltin !== undefined && builtinEffect(ofBuiltin, method!)) effect(`calls ${ofBuiltin}'s ${method} while it loads`);
        }
        if (root !== undefined && !declared.has(root)) {
          const method = callee!.property?.name;
          if ((root === 'Object' || root === 'Reflect') && definers.has(method)) {
            const first = node.arguments?.[0];
            const target = first ? rootName(first) : undefined;
            const ran = !(inFunction && !atLoad && unreached(node.start));
            if (ran && target !== undefined && ((sharedObjects.has(target) && !declared.has(target)) || builtinBindings.has(target) || aliasOf.has(target))) effect(`${root}.${method} on ${target}`);
          } else if (runsAtLoad && root === 'console') effect(`calls console.${method ?? '…'} while it loads`);
          else if (runsAtLoad && root === 'process') {
            // process.on(...), process.emitWarning(...), process.stdout.write(...), not process.argv.includes(...).
            const object = callee!.object;
            const direct = object.type === 'Identifier';
            const stream = object.type === 'MemberExpression' && ['stdout', 'stderr', 'stdin'].includes(object.property?.name);
            if ((direct && processEffects.has(method)) || stream) effect(`calls process.${stream ? `${object.property.name}.` : ''}${method ?? '…'} while it loads`);
          }
        }
        if (node.callee?.type === 'Identifier' && node.callee.name === 'eval' && !(inFunction && !atLoad && unreached(node.start))) effect('calls eval');
        // Work scheduled while the module loads runs whether or not anyone uses the module: a
        // timer; and, in a statement of its own (the promise dropped, so the work is done for its
        // own sake, not kept for a later `await` as es-module-lexer's `init` in vite is), a
        // callback for a promise (`.then`, `.catch`, `.finally`) or a local async function,
        // which runs on after its first `await`.
        if (runsAtLoad && called?.type === 'Identifier' && timers.has(called.name) && !declared.has(called.name)) effect(`calls ${called.name} while it loads`);
        else if (runsAtLoad && statementCalls.has(node) && callee !== undefined && !callee['computed'] && ['then', 'catch', 'finally'].includes(callee['property']?.name)) effect(`calls .${callee['property'].name} on a promise while it loads`);
        else if (runsAtLoad && statementCalls.has(node) && called?.type === 'Identifier' && asyncLocals.has(called.name)) effect(`starts the async function ${called.name} while it loads`);
        break;
      }
      case 'NewExpression':
        if ((!inFunction || duringLoad(node.start)) && statementCalls.has(node)) {
          const other = otherModule(node.callee);
          if (other !== undefined) effect(`calls ${other} of another module while it loads`);
        }
        break;
      case 'MemberExpression': {
        // Which module loaded it, or what that one had exported so far: another importer, or
        // another moment, once the load waits for a first use.
        const path = commonjs && (!inFunction || atLoad || duringLoad(node.start)) ? memberPath(node) : undefined;
        if (path !== undefined && (path === 'module.parent' || path === 'module.children' || path === 'require.main.exports')) effect(`reads ${path} while it loads`);
        break;
      }
      case 'WithStatement':
        effect('uses with');
        break;
      case 'AwaitExpression':
        if (!inFunction) topLevelAwait = true;
        break;
      case 'ForOfStatement':
        if (!inFunction && node.await) topLevelAwait = true;
        break;
    }
    for (const key in node) {
      if (key === 'type') continue;
      const child = node[key];
      if (child && typeof child === 'object') walk(child, deferred, loading);
    }
  };
  walk(program['body'], false);
  // What may not run on every load: branches, `try` blocks and handlers, the right of `&&`, `||`
  // and `??`, loop bodies, switch cases, and the functions the top level calls by name.
  const branches: [number, number][] = [];
  const mark = (node: Node | null | undefined): void => void (node && branches.push([node.start, node.end]));
  walkNodes(program['body'], (node) => {
    if (node.type === 'IfStatement' || node.type === 'ConditionalExpression') {
      mark(node.consequent);
      mark(node.alternate);
    } else if (node.type === 'LogicalExpression') mark(node.right);
    else if (node.type === 'TryStatement') {
      mark(node.block);
      mark(node.handler);
    } else if (node.type === 'ForStatement' || node.type === 'ForInStatement' || node.type === 'ForOfStatement' || node.type === 'WhileStatement' || node.type === 'DoWhileStatement') mark(node.body);
    else if (node.type === 'SwitchCase') mark(node);
    else if (node.type === 'ChainExpression') mark(node);
  });
  const branchAt = innermostOf(branches);
  // Loads after a top-level statement that may leave the module early (a CommonJS `return`, a
  // `throw`, `process.exit()`, in a branch) do not run on every load either.
  let leavesBy = Number.POSITIVE_INFINITY;
  for (const statement of program['body'] as Node[]) {
    let leaves = false;
    walkNodes(statement, (node) => {
      if (leaves || isFunctionLike(node)) return false;
      if (node.type === 'ReturnStatement' || node.type === 'ThrowStatement' || (node.type === 'CallExpression' && memberPath(node.callee) === 'process.exit' && !declared.has('process'))) leaves = true;
      return !leaves;
    });
    if (leaves) {
      leavesBy = statement.end;
      break;
    }
  }
  const eagerRequireConditional = eagerRequireStarts.map((at) => duringLoad(at) || branchAt(at) !== -1 || at >= leavesBy);
  return { sideEffect, eagerRequires, eagerRequireStarts, eagerRequireConditional, functionRanges, invokedStarts, topLevelAwait };
}

/** node:util's runtime-deprecated functions (the `is*` type checks went in Node 23). */
const deprecatedUtil = new Set(['_extend', 'log', 'isArray', 'isBoolean', 'isBuffer', 'isDate', 'isError', 'isFunction', 'isNull', 'isNullOrUndefined', 'isNumber', 'isObject', 'isPrimitive', 'isRegExp', 'isString', 'isSymbol', 'isUndefined']);

const argvMutators = new Set(['splice', 'push', 'pop', 'shift', 'unshift', 'sort', 'reverse', 'fill', 'copyWithin']);
const freezers = new Set(['freeze', 'seal', 'preventExtensions']);

/**
 * Walks a module's code with, for each node, whether it runs while the module loads: the top
 * level, the bodies of functions invoked on the spot there, and the bodies in `loadTime`.
 * `enter` returning false skips the node's children (it may visit some itself with `visit`).
 */
function walkLoadTime(program: Node, loadTime: readonly [number, number][], enter: (node: any, atLoad: boolean, visit: (node: unknown, atLoad: boolean) => void) => boolean | void): void {
  const duringLoad = (at: number): boolean => loadTime.some(([start, end]) => at >= start && at < end);
  const visit = (node: any, load: boolean): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child, load);
      return;
    }
    if (typeof node.type !== 'string') return;
    if (node.type === 'CallExpression' && load && invokedFunction(node) !== undefined) {
      visit(invokedFunction(node)!['body'], true);
      visit(node.arguments, load);
      return;
    }
    if (isFunctionLike(node)) {
      visit(node['body'], duringLoad(node['body']?.start ?? node.start));
      return;
    }
    const atLoad = load || duringLoad(node.start);
    if (enter(node, atLoad, visit) === false) return;
    for (const key in node) {
      if (key === 'type') continue;
      const child = node[key];
      if (child && typeof child === 'object') visit(child, atLoad);
    }
  };
  visit(program['body'], true);
}

/** `process.env` itself. */
function isProcessEnv(node: Node | null | undefined): boolean {
  return node?.type === 'MemberExpression' && !node['computed'] && node['property']?.name === 'env' && node['object']?.type === 'Identifier' && node['object'].name === 'process';
}

/** `process.argv` itself. */
function isProcessArgv(node: Node | null | undefined): boolean {
  return node?.type === 'MemberExpression' && !node['computed'] && node['property']?.name === 'argv' && node['object']?.type === 'Identifier' && node['object'].name === 'process';
}

/**
 * The process state a written member chain changes: `env:X` for `process.env.X` or
 * `process.env["X"]`, `env:*` for another key or the whole object, `argv` for `process.argv` or
 * a member of it.
 */
function changedState(node: Node | null | undefined): ProcessState | undefined {
  let at = node;
  while (at?.type === 'ParenthesizedExpression' || at?.type === 'ChainExpression') at = at['expression'];
  if (isProcessEnv(at)) return 'env:*';
  while (at?.type === 'MemberExpression') {
    if (isProcessArgv(at)) return 'argv';
    if (isProcessEnv(at['object'])) return envKey(at);
    at = at['object'];
  }
  return undefined;
}

/** The variable a member of process.env names: `env:X`, or `env:*` when computed. */
function envKey(member: Node): ProcessState {
  if (!member['computed']) return `env:${member['property'].name}`;
  const key = member['property'];
  return key?.type === 'Literal' && typeof key.value === 'string' ? `env:${key.value}` : 'env:*';
}

/** Whether reading `read` as a module loads may see one of `changes` made before it. */
export function stateConflict(read: ProcessState, changes: ReadonlySet<ProcessState>): boolean {
  if (!read.startsWith('env:')) return changes.has(read);
  if (read === 'env:*') return [...changes].some((change) => change.startsWith('env:'));
  return changes.has(read) || changes.has('env:*');
}

/**
 * The `process.chdir()` calls of functions that save the working directory in a `const` and
 * change back to it (`const cwd = process.cwd(); process.chdir(dir); ...; process.chdir(cwd)`):
 * what such a function changes it puts back.
 */
function cwdRestorers(program: Node): Set<Node> {
  const found = new Set<Node>();
  walkNodes(program, (fn) => {
    if (!isFunctionLike(fn)) return true;
    const saved = new Set<string>();
    const calls: Node[] = [];
    walkNodes(fn['body'], (node) => {
      if (node !== fn['body'] && isFunctionLike(node)) return false;
      if (node.type === 'VariableDeclarator' && node['id']?.type === 'Identifier' && node['init']?.type === 'CallExpression' && memberPath(node['init']['callee']) === 'process.cwd') saved.add(node['id'].name);
      if (node.type === 'CallExpression' && node['callee']?.type === 'MemberExpression' && memberPath(node['callee']) === 'process.chdir') calls.push(node);
      return true;
    });
    const declared = new Set<string>();
    walkNodes(fn['body'], (node) => void (node.type === 'AssignmentExpression' && node['left']?.type === 'Identifier' && declared.add(node['left'].name)));
    const restores = calls.some((call) => call['arguments']?.[0]?.type === 'Identifier' && saved.has(call['arguments'][0].name) && !declared.has(call['arguments'][0].name));
    if (restores) for (const call of calls) found.add(call);
    return true;
  });
  return found;
}

/** Calls that change process state wherever they are made, by callee path. */
const stateCalls = new Map<string, ProcessState>([['process.chdir', 'cwd'], ['process.loadEnvFile', 'env:*']]);

/**
 * What process state the module reads while it loads (the top level, functions invoked on the
 * spot, the bodies in `loadTime`), and what state any of its code changes, but the writes in
 * `kept` (put back as they were). A deferred module reads the environment when it is first
 * used: if the program changed it in between (`process.env.DEBUG = "*"` before a command runs),
 * it would see the change that plain Node's load came before. By variable where the code names
 * one (`process.env.NODE_ENV`); the whole environment where it does not (`process.env[key]`,
 * `Object.keys(process.env)`, `const { env } = process`). Writes through another name for
 * process.env (`const env = process.env; env.X = 1`) are not seen.
 */
function processStateUse(program: Node, loadTime: readonly [number, number][], kept: ReadonlySet<Node>): { reads: ProcessState[]; changes: ProcessState[] } {
  const reads = new Set<ProcessState>();
  const changes = new Set<ProcessState>();
  const changed = (target: Node | null | undefined): void => {
    const kind = target === null || target === undefined || kept.has(target) ? undefined : changedState(target);
    if (kind !== undefined) changes.add(kind);
  };
  const restoresCwd = cwdRestorers(program);
  walkLoadTime(program, loadTime, (node, atLoad, visit) => {
    if (node.type === 'AssignmentExpression') changed(node.left);
    else if (node.type === 'UpdateExpression' || (node.type === 'UnaryExpression' && node.operator === 'delete')) changed(node.argument);
    else if (node.type === 'CallExpression') {
      const callee = node.callee?.type === 'MemberExpression' ? node.callee : undefined;
      const path = callee === undefined ? undefined : memberPath(callee);
      const object = callee === undefined ? undefined : memberPath(callee.object);
      if (path === 'process.chdir' && restoresCwd.has(node)) {
        // Put back by the same function (cross-spawn's `const cwd = process.cwd(); ... process.chdir(cwd)`).
      } else if (path !== undefined && stateCalls.has(path)) changes.add(stateCalls.get(path)!);
      else if (object === 'process.argv' && argvMutators.has(callee!.property?.name)) changes.add('argv');
      else if ((object === 'Object' || object === 'Reflect') && definers.has(callee!.property?.name)) changed(node.arguments?.[0]);
      if (atLoad && path === 'process.cwd') reads.add('cwd');
    } else if (node.type === 'MemberExpression') {
      // The variable read, without visiting process.env on its own (which would read the whole).
      if (isProcessEnv(node['object'])) {
        if (atLoad) reads.add(envKey(node));
        if (node['computed']) visit(node['property'], atLoad);
        return false;
      }
      if (isProcessEnv(node) || isProcessArgv(node)) {
        if (atLoad) reads.add(isProcessEnv(node) ? 'env:*' : 'argv');
        return false;
      }
    } else if (atLoad && node.type === 'VariableDeclarator' && node.init?.type === 'Identifier' && node.init.name === 'process' && node.id?.type === 'ObjectPattern') {
      // `const { env, argv } = process`
      for (const property of node.id.properties as Node[]) {
        const key = property.type === 'Property' && !property['computed'] ? property['key']?.name : undefined;
        if (key === 'env') reads.add('env:*');
        else if (key === 'argv' || key === 'cwd') reads.add(key);
      }
    } else if (node.type === 'ImportDeclaration' && /^(?:node:)?process$/.test(String(node.source?.value))) {
      // `import { env } from "node:process"`, `import process from "process"`: read through names
      // this check does not follow, so taken as read.
      reads.add('env:*').add('argv').add('cwd');
    }
    return true;
  });
  return { reads: [...reads].sort(), changes: [...changes].sort() };
}

/**
 * Where code that runs at load (the top level, functions invoked on the spot, and the bodies in
 * `loadTime`) writes process state another module may read as it loads: `process.env` and
 * `process.argv` (written, deleted or mutated), `process.chdir()`, and `Object.freeze()` (or
 * seal, preventExtensions) of a shared object. The start of each.
 */
function processStateWrites(program: Node, loadTime: readonly [number, number][]): number[] {
  const declared = declaredNames(program);
  if (declared.has('process')) return [];
  // `process.env`, `process.env.X`, `process.env[k]`, `process.argv[2]`: the object or a member of it.
  const state = (node: Node | null | undefined): boolean => {
    let at = node;
    while (at?.type === 'MemberExpression') {
      const path = memberPath(at);
      if (path === 'process.env' || path === 'process.argv') return true;
      at = at['object'];
    }
    return false;
  };
  const found: number[] = [];
  walkLoadTime(program, loadTime, (node, inLoad) => {
    if (inLoad) {
      if (node.type === 'AssignmentExpression' && state(node.left)) found.push(node.start);
      else if ((node.type === 'UpdateExpression' || (node.type === 'UnaryExpression' && node.operator === 'delete')) && state(node.argument)) found.push(node.start);
      else if (node.type === 'CallExpression' && node.callee?.type === 'MemberExpression') {
        const path = memberPath(node.callee);
        const object = memberPath(node.callee.object);
        if (path === 'process.chdir' || (object === 'process.argv' && argvMutators.has(node.callee.property?.name))) found.push(node.start);
        else if (object === 'Object' && freezers.has(node.callee.property?.name) && !declared.has('Object')) {
          const first = node.arguments?.[0];
          const target = first ? rootName(first) : undefined;
          if (target !== undefined && sharedObjects.has(target) && !declared.has(target)) found.push(node.start);
        }
      }
    }
  });
  return found;
}

/**
 * The bodies of the module's own functions that its top level calls by name (`init()`, maybe in
 * a branch), less the functions they define: code that runs at load as the top level's does, for
 * the rules that count calls made there. Not transitive: loadTimeFunctions' wider closure also
 * takes in callbacks and what they call, where it found registrations that run only when a
 * user calls (vitest's `beforeAll`).
 */
function directlyCalled(program: Node): [number, number][] {
  // Functions and classes bound to a module-scope name: `function f`, `const f = () => …`, `class C`.
  const local = new Map([...moduleScopeValues(program)].filter(([, value]) => isFunctionLike(value) || isClass(value)));
  const ranges: [number, number][] = [];
  const taken = new Set<Node>();
  // A function's body, with the holes of the functions it defines.
  const body = (code: Node): void => {
    let from = code.start as number;
    walkNodes(code, (inner) => {
      if (inner === code || !isFunctionLike(inner)) return true;
      ranges.push([from, inner.start]);
      from = inner.end;
      return false;
    });
    ranges.push([from, code.end]);
  };
  const take = (fn: Node | undefined, constructed: boolean): void => {
    if (fn === undefined || taken.has(fn)) return;
    // Calling a class throws: only `new` runs one, its constructor and instance fields.
    if (isClass(fn) && !constructed) return;
    taken.add(fn);
    if (!isClass(fn)) {
      body(fn['body']);
      return;
    }
    for (const member of fn['body']['body'] as Node[]) {
      if (member.type === 'MethodDefinition' && member['kind'] === 'constructor') body(member['value']['body']);
      else if (member.type === 'PropertyDefinition' && !member['static'] && member['value'] && !isFunctionLike(unwrap(member['value']))) body(member['value']);
    }
  };
  walkNodes(program['body'], (node) => {
    if (isFunctionLike(node)) return false;
    const called = node.type === 'CallExpression' || node.type === 'NewExpression' ? node.callee : node.type === 'TaggedTemplateExpression' ? node.tag : undefined;
    const name = called ? unwrap(called) : undefined;
    if (name?.type === 'Identifier') take(local.get(name['name']), node.type === 'NewExpression');
    return true;
  });
  return ranges;
}

/**
 * Ranges of the module's own functions that run while it loads: those called at the top level
 * (`main()`), immediately invoked ones, those handed to a call there (`list.forEach(register)`),
 * and, transitively, the local functions they call. A deferred binding read in one of them is
 * needed while the module evaluates anyway, and deferring it would only move its load after
 * whatever the top level did first (a program that sets FORCE_COLOR, then calls main(), which
 * uses chalk: chalk would read the changed environment).
 */
function loadTimeFunctions(program: Node): [number, number][] {
  const values = moduleScopeValues(program);
  const local = new Map([...values].filter(([, value]) => isFunctionLike(value)));
  // Classes, object and array literals bound to a module-scope name: a call through one
  // (`cli.run()`, `new App()`, `Tool.check()`, `steps[0]()`) may run any function they hold.
  const holders = new Map([...values].filter(([, value]) => isClass(value) || value.type === 'ObjectExpression' || value.type === 'ArrayExpression'));
  // The functions the module puts in its own exports: `exports.main()` and `module.exports.main()` at load run one.
  const exported: Node[] = [];
  const exportsMember = (node: Node): boolean => {
    const path = memberPath(node);
    return path !== undefined && (path.startsWith('exports.') || path === 'module.exports' || path.startsWith('module.exports.'));
  };
  for (const statement of program['body'] as Node[]) {
    const assigned = statement.type === 'ExpressionStatement' && statement['expression']?.type === 'AssignmentExpression' ? statement['expression'] : undefined;
    if (assigned !== undefined && exportsMember(assigned['left'])) {
      const value = unwrap(assigned['right']);
      if (isFunctionLike(value) || value.type === 'ObjectExpression' || value.type === 'ClassExpression') exported.push(value);
      else if (value.type === 'Identifier' && (local.has(value['name']) || holders.has(value['name']))) exported.push(local.get(value['name']) ?? holders.get(value['name'])!);
    }
  }
  const running = new Set<Node>();
  const pending: Node[] = [];
  const run = (fn: Node | undefined): void => {
    if (fn === undefined || running.has(fn)) return;
    // An exported object literal: `exports.x()` may run any function it holds.
    if (fn.type === 'ObjectExpression' || fn.type === 'ClassExpression' || fn.type === 'ClassDeclaration') {
      runMember(fn, undefined, 'call');
      return;
    }
    running.add(fn);
    pending.push(fn);
  };
  // What a holder runs when code at load uses its member `name` (undefined: a computed one, any):
  // a call runs that method or property's function, a read runs that getter; `new` runs a
  // class's constructor and instance field values (and what they call through `this`).
  const runMember = (holder: Node, name: string | undefined, use: 'call' | 'read' | 'new'): void => {
    const members: Node[] = holder.type === 'ObjectExpression' ? holder['properties'] : holder.type === 'ArrayExpression' ? holder['elements'].filter(Boolean) : holder['body']['body'];
    for (const member of members) {
      const key = member.type === 'Property' || member.type === 'MethodDefinition' || member.type === 'PropertyDefinition' ? (member['computed'] ? undefined : (member['key']?.name ?? member['key']?.value)) : undefined;
      const value = member.type === 'Property' || member.type === 'MethodDefinition' || member.type === 'PropertyDefinition' ? member['value'] : member;
      if (value === null || value === undefined) continue;
      if (use === 'new') {
        if (member.type === 'MethodDefinition' && member['kind'] === 'constructor') run(value);
        else if (member.type === 'PropertyDefinition' && !member['static'] && !isFunctionLike(unwrap(value))) pending.push({ body: value } as unknown as Node);
        continue;
      }
      if (name !== undefined && key !== name) continue;
      const accessor = member['kind'] === 'get' || member['kind'] === 'set';
      if (use === 'read' ? accessor : !accessor && isFunctionLike(unwrap(value))) run(unwrap(value));
    }
  };
  // The member a use of `holder.x` names, or undefined for a computed one.
  const memberName = (node: Node): string | undefined => (node.type === 'MemberExpression' && !node['computed'] ? node['property']?.name : undefined);
  // Names called or handed to a call in `node`, not counting nested functions unless `deep`.
  const visit = (node: any, deep: boolean): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child, deep);
      return;
    }
    if (typeof node.type !== 'string') return;
    if (isFunctionLike(node) && !deep) return;
    if (node.type === 'TaggedTemplateExpression') {
      const tag = unwrap(node.tag);
      if (tag.type === 'Identifier') run(local.get(tag.name));
    }
    if (node.type === 'MemberExpression' && node.object?.type === 'Identifier' && holders.has(node.object.name)) runMember(holders.get(node.object.name)!, memberName(node), 'read');
    if (node.type === 'CallExpression' || node.type === 'NewExpression') {
      const callee = unwrap(node.callee);
      const root = rootName(node.callee);
      if (callee.type === 'Identifier') run(local.get(callee.name));
      else if (isFunctionLike(callee)) run(callee);
      let direct = node.callee;
      while (direct?.type === 'ParenthesizedExpression' || direct?.type === 'ChainExpression') direct = direct.expression;
      if (node.type === 'NewExpression' && direct?.type === 'Identifier' && holders.has(direct.name)) runMember(holders.get(direct.name)!, undefined, 'new');
      else if (direct?.type === 'MemberExpression' && direct.object?.type === 'Identifier' && holders.has(direct.object.name)) runMember(holders.get(direct.object.name)!, memberName(direct), 'call');
      // A method of the instance a constructor or method is building (`this.init()`), in a class that runs.
      else if (deep && direct?.type === 'MemberExpression' && direct.object?.type === 'ThisExpression') for (const holder of holders.values()) if (holder.type !== 'ObjectExpression' && holder.type !== 'ArrayExpression' && [...running].some((fn) => fn.start >= holder.start && fn.end <= holder.end)) runMember(holder, memberName(direct), 'call');
      // Through the module's own exports (`this` at a CommonJS top level is module.exports).
      if (root === 'exports' || root === 'module' || (callee.type === 'ThisExpression' && !deep)) for (const fn of exported) run(fn);
      for (const argument of node.arguments as Node[]) {
        const value = unwrap(argument);
        if (value.type === 'Identifier') run(local.get(value.name));
        else if (isFunctionLike(value)) run(value);
      }
    }
    for (const key in node) {
      if (key === 'type') continue;
      const child = node[key];
      if (child && typeof child === 'object') visit(child, deep);
    }
  };
  visit(program['body'], false);
  // A running function runs what it calls, nested callbacks included.
  while (pending.length > 0) visit(pending.pop()!['body'], true);
  return [...running].map((fn) => [fn.start as number, fn.end as number]);
}

/** The facts of one module (CommonJS or ES module): its effects, what it loads while it evaluates, and its deferrable declarations. */
export function moduleFacts(
  source: string,
  file: string,
  format: 'commonjs' | 'module' = 'commonjs',
  evidence: RunEvidence = {},
): ModuleFacts & { readonly plan: DeferPlan | undefined; readonly topLevelAwait: boolean } {
  const program = parse(source, file, format);
  // Node drops an ES module's byte order mark before it compiles (CommonJS keeps it), so V8's
  // offsets start one later there.
  const neverRan = evidence.neverRan;
  const shifted = neverRan !== undefined && format === 'module' && source.charCodeAt(0) === 0xfeff ? { ...evidence, neverRan: (offset: number) => offset > 0 && neverRan(offset - 1) } : evidence;
  const called = directlyCalled(program);
  const facts = evaluationFacts(program, format === 'commonjs', shifted, called);
  const stateWrites = processStateWrites(program, called);
  const atLoad = loadTimeFunctions(program);
  const stateUse = processStateUse(program, called, new Set([...restoredWrites(program), ...(evidence.envWritesBack === true ? envSetterWrites(program) : [])]));
  const top = planProgram(program, source, format, { defer: [], eager: false, nativeImportDefer: false, interopRequire: true, learned: true });
  const inFunction = (at: number): boolean =>
    facts.functionRanges.some(([start, end]) => at >= start && at < end) && !atLoad.some(([start, end]) => at >= start && at < end);
  // Requires assigned inside a top-level invoked function (LiveScript's and CoffeeScript's wrapper).
  const dynamic = hasDynamicScope(source);
  const invoked = format === 'commonjs' && !dynamic ? invokedRequireSites(program, source, top?.owner) : { sites: [], references: [] };
  // `const X = x.X` after `const x = require("x")`: X reads x at load, so x loads then unless X too waits for its first use.
  const aliases =
    format === 'commonjs' && !dynamic && top !== undefined
      ? aliasSites(program, source, top, new Set(invoked.sites.map((site) => site.object)))
      : { sites: [], references: [], bases: new Set<number>() };
  const plan: DeferPlan | undefined =
    invoked.sites.length === 0 && aliases.sites.length === 0
      ? top
      : {
          program,
          sites: [...(top?.sites ?? []), ...invoked.sites, ...aliases.sites],
          // An alias's read of its site is part of the alias's own rewritten initialiser.
          references: [...(top?.references ?? []).filter((ref) => !aliases.bases.has(ref.start)), ...invoked.references, ...aliases.references],
          owner: new Map([
            ...(top?.owner ?? []),
            ...invoked.sites.map((site) => [site.object, site] as const),
            ...aliases.sites.flatMap((site) => [...site.locals.keys()].map((name) => [name, site] as const)),
          ]),
          commonjs: true,
          calls: top?.calls ?? [],
        };
  const written = writtenThrough(program);
  // An ES module's import bindings, by name: a write through one (`counter.count = 42`) changes the other module's exports.
  const importedFrom = new Map<string, string>();
  if (format === 'module') {
    for (const statement of program['body'] as Node[]) {
      if (statement.type !== 'ImportDeclaration' || statement['importKind'] === 'type') continue;
      for (const spec of statement['specifiers'] as Node[]) importedFrom.set(spec['local'].name, String(statement['source'].value));
    }
  }
  const writesInto = [
    ...new Set([
      ...(top === undefined || format !== 'commonjs' ? [] : [...written].map((name) => top.owner.get(name)).filter((site) => site?.kind === 'require').map((site) => site!.specifier)),
      ...[...written].flatMap((name) => (importedFrom.has(name) ? [importedFrom.get(name)!] : [])),
      ...requiredAndWritten(program),
    ]),
  ];
  const exportsChangeLater = format === 'commonjs' && writesOwnExportsLater(program);
  const getters = format === 'commonjs' ? exportGetters(program) : { computes: false, reexports: [] };
  // In a function that runs only when called, not in one invoked on the spot (a UMD or
  // LiveScript wrapper) or called by name as the module loads.
  let replacesExportsLater = false;
  if (format === 'commonjs') {
    const atLoad = (fn: Node): boolean => facts.invokedStarts.has(fn.start) || called.some(([start, end]) => fn['body'].start >= start && fn['body'].start < end) || called.some(([start]) => start === fn['body'].start);
    const visit = (node: any, later: boolean): void => {
      if (replacesExportsLater || !node || typeof node !== 'object') return;
      if (Array.isArray(node)) {
        for (const child of node) visit(child, later);
        return;
      }
      if (typeof node.type !== 'string') return;
      // A function called on the spot, parameters or not (a UMD wrapper's `(function (root, factory) {…})(this, …)`), runs when its call does.
      if (node.type === 'CallExpression') {
        let callee = node.callee;
        while (callee?.type === 'ParenthesizedExpression') callee = callee.expression;
        if (callee?.type === 'MemberExpression' && !callee.computed && ['call', 'apply'].includes(callee.property?.name)) callee = callee.object;
        while (callee?.type === 'ParenthesizedExpression') callee = callee.expression;
        if (callee && isFunctionLike(callee)) {
          visit(callee['body'], later);
          visit(node.arguments, later);
          return;
        }
      }
      if (isFunctionLike(node)) later = !atLoad(node);
      if (later && node.type === 'AssignmentExpression' && memberPath(node.left) === 'module.exports') replacesExportsLater = true;
      for (const key in node) if (key !== 'type' && node[key] && typeof node[key] === 'object') visit(node[key], later);
    };
    visit(program['body'], false);
  }
  // A module that reassigns `require` (`require = require("esm")(module)`): a require made at
  // first use would go through the replacement, one made at load did not.
  let writesRequire = false;
  if (format === 'commonjs') {
    walkNodes(program['body'], (node) => {
      if ((node.type === 'AssignmentExpression' && node.left?.type === 'Identifier' && node.left.name === 'require') || (node.type === 'UpdateExpression' && node.argument?.type === 'Identifier' && node.argument.name === 'require')) writesRequire = true;
      return !writesRequire;
    });
  }
  const bareImports: DeferSite[] = [];
  const staticImports: { specifier: string; start: number }[] = [];
  if (format === 'module') {
    for (const statement of program['body'] as Node[]) {
      if ((statement.type === 'ImportDeclaration' || statement.type === 'ExportAllDeclaration' || statement.type === 'ExportNamedDeclaration') && statement['source'] && statement['importKind'] !== 'type' && statement['exportKind'] !== 'type') {
        staticImports.push({ specifier: String(statement['source'].value), start: statement.start });
      }
      if (statement.type !== 'ImportDeclaration' || statement['specifiers'].length > 0 || statement['importKind'] === 'type' || statement['phase'] || statement['attributes']?.length > 0) continue;
      bareImports.push({ kind: 'import', specifier: String(statement['source'].value), start: statement.start, end: statement.end, object: '', read: '', locals: new Map(), keep: false, bare: true });
    }
  }
  const exportStars: string[] = [];
  let namesModuleExports = false;
  let namesThen = false;
  if (format === 'module') {
    for (const statement of program['body'] as Node[]) {
      if (statement['exportKind'] === 'type') continue;
      if (statement.type === 'ExportAllDeclaration' && !statement['exported']) exportStars.push(String(statement['source'].value));
      const names: string[] = [];
      if (statement.type === 'ExportAllDeclaration' && statement['exported']) names.push(statement['exported']['value'] ?? statement['exported']['name']);
      if (statement.type === 'ExportNamedDeclaration') {
        for (const spec of statement['specifiers'] as Node[]) names.push(spec['exported']['value'] ?? spec['exported']['name']);
        const declaration = statement['declaration'];
        if (declaration?.id?.name !== undefined) names.push(declaration.id.name);
        for (const declarator of declaration?.declarations ?? []) walkNodes(declarator.id, (node) => (node.type === 'Identifier' ? void names.push(node.name) : node.type === 'AssignmentPattern' ? (walkNodes(node.left, (inner) => void (inner.type === 'Identifier' && names.push(inner.name))), false) : undefined));
      }
      if (names.includes('module.exports')) namesModuleExports = true;
      if (names.includes('then')) namesThen = true;
    }
  }
  const dynamicImports: string[] = [];
  let computedImport = false;
  walkNodes(program, (node) => {
    if (node.type !== 'ImportExpression') return;
    const named = node.source;
    const specifier = named?.type === 'Literal' && typeof named.value === 'string' ? named.value : named?.type === 'TemplateLiteral' && named.expressions.length === 0 ? named.quasis[0].value.cooked : undefined;
    if (specifier !== undefined) dynamicImports.push(specifier);
    else computedImport = true;
  });
  const base = {
    sideEffect: facts.sideEffect, eagerRequires: facts.eagerRequires, eagerRequireStarts: facts.eagerRequireStarts, eagerRequireConditional: facts.eagerRequireConditional, topLevelAwait: facts.topLevelAwait,
    plan, exportsChangeLater, replacesExportsLater, computedExports: getters.computes, reexportGetters: getters.reexports, stateWrites, stateReads: stateUse.reads, stateChanges: stateUse.changes, writesInto, bareImports, staticImports, dynamicImports, computedImport, exportStars, namesModuleExports, namesThen,
  };
  if (plan === undefined || declaresGeneratedNames(program) || writesRequire) return { ...base, candidates: [] };
  const wanted = format === 'module' ? 'import' : 'require';
  const declarations = format === 'commonjs' ? moduleScopeDeclarations(program) : undefined;
  // Needed while the module evaluates (or reassigned, or declared twice, so that a rewrite of one
  // declaration would miss the other): nothing to gain, or not the same binding.
  // Where a name is only the object of a property read (`ns.a`, `ns["a"]`): a namespace's stand-in
  // shows nothing else of itself there. Handed on whole (`f(ns)`, `ns === other`, `Object.keys(ns)`),
  // it would be a Proxy with another tag, identity and errors than Node's namespace.
  const readThrough = new Set<number>();
  if (format === 'module') {
    const writtenMembers = new Set<Node>();
    walkNodes(program, (node) => {
      if (node.type === 'AssignmentExpression') writtenMembers.add(node.left);
      else if (node.type === 'UpdateExpression' || (node.type === 'UnaryExpression' && node.operator === 'delete')) writtenMembers.add(node.argument);
      else if (node.type === 'MemberExpression' && node.object?.type === 'Identifier' && !writtenMembers.has(node) && (!node.computed || node.property?.type === 'Literal')) readThrough.add(node.object.start);
    });
  }
  // The namespace's own name is no rewritten reference: its uses are found here.
  const shownWhole = (site: DeferSite): boolean =>
    site.namespace === true && findReferences(program, new Set([site.object]), true).some((ref) => ref.kind === 'export' || !readThrough.has(ref.start) || !inFunction(ref.start));
  const waits = (site: DeferSite): boolean =>
    [...site.locals.keys()].every((name) => declarations === undefined || declarations.get(name) === 1) &&
    plan.references.every((ref) => plan.owner.get(ref.name) !== site || (ref.kind !== 'write' && ref.kind !== 'export' && inFunction(ref.start))) &&
    !shownWhole(site);
  const readyAliases = new Set(aliases.sites.filter((site) => !site.keep && waits(site)));
  const candidates = plan.sites.filter((site) => {
    if (site.keep || site.kind !== wanted) return false;
    if (invoked.sites.includes(site)) return true;
    const ready = (target: DeferSite): boolean => waits(target) && aliases.sites.every((alias) => alias.alias !== target || readyAliases.has(alias));
    return site.alias !== undefined ? readyAliases.has(site) && ready(site.alias) : ready(site);
  });
  return { ...base, candidates };
}

/**
 * Top-level `const X = x.a.b` and `const { a } = x`, where `x` is the binding of an earlier
 * top-level require site: alias sites, which load at first use through their own holder. The
 * initialiser they keep already reads through `x`'s holder (`bases`: where it read `x`). An
 * alias waits only together with its site (settleAliases). Its value is read at its first use,
 * as `require("x").y` is: none where the module itself writes through `x`, which would change
 * what that read finds. `claimed`: names other sites own.
 */
function aliasSites(program: Node, source: string, top: DeferPlan, claimed: ReadonlySet<string>): { sites: DeferSite[]; references: Reference[]; bases: Set<number> } {
  const sites: DeferSite[] = [];
  const bases = new Set<number>();
  let written: Set<string> | undefined;
  for (const statement of program['body'] as Node[]) {
    if (statement.type !== 'VariableDeclaration') continue;
    for (const declarator of statement['declarations'] as Node[]) {
      const init = declarator['init'] as Node | null;
      if (!init) continue;
      let base = init;
      while (base.type === 'MemberExpression' && !base['computed'] && base['property']?.type === 'Identifier') base = base['object'];
      // `const y = x` renames: nothing to gain (`const { a } = x` reads).
      if (base.type !== 'Identifier' || (base === init && declarator['id'].type === 'Identifier')) continue;
      const parent = top.owner.get(base['name']);
      // Before its require, the alias read the binding before it had a value (or in its TDZ).
      if (parent === undefined || parent.kind !== 'require' || parent.keep || declarator.start < parent.end) continue;
      const locals = new Map<string, string>();
      if (declarator['id'].type === 'Identifier') locals.set(declarator['id'].name, '');
      else if (!simpleObjectPattern(declarator['id'], locals)) continue;
      if ([...locals.keys()].some((name) => top.owner.has(name) || claimed.has(name) || sites.some((site) => site.locals.has(name)))) continue;
      written ??= writtenThrough(program);
      if (written.has(base['name'])) continue;
      const imported = parent.locals.get(base['name'])!;
      const read = imported === '' ? parent.read : member(parent.read, imported);
      const object = uniqueName(source, `__coldstart_alias${sites.length}`);
      bases.add(base.start);
      sites.push({ kind: 'require', specifier: parent.specifier, start: declarator.start, end: declarator.end, object, read: `${object}.m`, locals, init: `${read}${source.slice(base.end, init.end)}`, keep: false, alias: parent });
    }
  }
  if (sites.length === 0) return { sites, references: [], bases };
  const owner = new Map(sites.flatMap((site) => [...site.locals.keys()].map((name) => [name, site] as const)));
  const references = findReferences(program, new Set(owner.keys()));
  for (const ref of references) if (ref.kind === 'export') owner.get(ref.name)!.keep = true;
  return { sites, references: references.filter((ref) => !owner.get(ref.name)!.keep), bases };
}

/**
 * Names the module writes a property through, anywhere (shadowing ignored, which only refuses
 * more): `x.a = …`, `x.a.b++`, `delete x.a`, `Object.defineProperty(x, …)` and the like.
 */
/** Specifiers of `require("x")` calls written through on the spot (`require("x").count = 42`), anywhere. */
function requiredAndWritten(program: Node): string[] {
  const found: string[] = [];
  // `member`: the written node is a property of what it names, not the call itself.
  const target = (node: Node | null | undefined, member = false): void => {
    let at = node;
    while (at && (at.type === 'MemberExpression' || at.type === 'ParenthesizedExpression' || at.type === 'ChainExpression')) {
      if (at.type === 'MemberExpression') member = true;
      at = at.type === 'MemberExpression' ? at['object'] : at['expression'];
    }
    const specifier = at?.type === 'CallExpression' && member ? requireSpecifier(at) : undefined;
    if (specifier !== undefined) found.push(specifier);
  };
  walkNodes(program['body'], (node) => {
    if (node.type === 'AssignmentExpression') target(node.left);
    else if (node.type === 'UpdateExpression' || (node.type === 'UnaryExpression' && node.operator === 'delete')) target(node.argument);
    else if (definerCall(node)) target(node.arguments?.[0], true);
  });
  return found;
}

function writtenThrough(program: Node): Set<string> {
  const names = new Set<string>();
  const rootOf = (node: Node | null | undefined): string | undefined => {
    let at = node;
    while (at && (at.type === 'MemberExpression' || at.type === 'ParenthesizedExpression' || at.type === 'ChainExpression')) at = at.type === 'MemberExpression' ? at['object'] : at['expression'];
    return at?.type === 'Identifier' ? at['name'] : undefined;
  };
  const target = (node: Node | null | undefined): void => {
    if (!node) return;
    if (node.type === 'MemberExpression') {
      const root = rootOf(node);
      if (root !== undefined) names.add(root);
    } else if (node.type === 'ObjectPattern') {
      for (const property of node['properties'] as Node[]) target(property.type === 'RestElement' ? property['argument'] : property['value']);
    } else if (node.type === 'ArrayPattern') {
      for (const element of node['elements'] as (Node | null)[]) target(element);
    } else if (node.type === 'AssignmentPattern') target(node['left']);
    else if (node.type === 'RestElement') target(node['argument']);
  };
  walkNodes(program['body'], (node) => {
    if (node.type === 'AssignmentExpression') target(node.left);
    else if (node.type === 'UpdateExpression' || (node.type === 'UnaryExpression' && node.operator === 'delete')) target(node.argument);
    else if (node.type === 'ForInStatement' || node.type === 'ForOfStatement') target(node.left);
    else if (definerCall(node)) {
      const root = rootOf(node.arguments?.[0]);
      if (root !== undefined) names.add(root);
    }
  });
  return names;
}

/** `Object.defineProperty(…)`, `Reflect.set(…)` and the other calls that write the object they are given. */
function definerCall(node: any): boolean {
  return node.type === 'CallExpression' && node.callee?.type === 'MemberExpression' && ['Object', 'Reflect'].includes(node.callee.object?.name) && definers.has(node.callee.property?.name);
}

/**
 * Whether code inside a function writes the module's exports (`exports.x = …`, `module.exports
 * = …`, `delete exports.x`, `Object.defineProperty(exports, …)`): after load, what a declaration
 * reads from them may change. Parameters named `exports` count too, which only refuses more.
 */
function writesOwnExportsLater(program: Node): boolean {
  const exportsRoot = (node: Node | null | undefined): boolean => {
    let at = node;
    while (at && (at.type === 'MemberExpression' || at.type === 'ParenthesizedExpression')) {
      if (at.type === 'MemberExpression' && at['object']?.type === 'Identifier' && at['object'].name === 'module' && !at['computed'] && at['property']?.name === 'exports') return true;
      at = at.type === 'MemberExpression' ? at['object'] : at['expression'];
    }
    return at?.type === 'Identifier' && at['name'] === 'exports';
  };
  const writes = (node: any): boolean =>
    (node.type === 'AssignmentExpression' && exportsRoot(node.left)) ||
    ((node.type === 'UpdateExpression' || (node.type === 'UnaryExpression' && node.operator === 'delete')) && node.argument?.type === 'MemberExpression' && exportsRoot(node.argument)) ||
    (definerCall(node) && exportsRoot(node.arguments?.[0]));
  // What else the exports are: functions and classes put there, whose `this` is the exports
  // object or an instance there (`exports.load = function (m) { this.mode = m }`, `module.exports
  // = new Config()`), and module-scope objects put there (`exports.counter = counter`), which
  // functions may write into.
  const holders = new Map([...moduleScopeValues(program)].filter(([, value]) => isClass(value) || ['ObjectExpression', 'ArrayExpression', 'NewExpression'].includes(value.type)));
  const thisOwners: Node[] = [];
  const exportedNames = new Set<string>();
  // `whole`: the value is module.exports itself. A function or an object literal's method put in
  // the exports gets them as `this` when called through them; an instance's methods do when the
  // instance is the exports (not an exported class's, whose `this` is an instance of its own).
  const exported = (value: Node, whole: boolean): void => {
    const node = unwrap(value);
    if (isFunctionLike(node) || node.type === 'ObjectExpression') thisOwners.push(node);
    else if (whole && node.type === 'NewExpression' && node['callee']?.type === 'Identifier' && holders.has(node['callee'].name)) thisOwners.push(holders.get(node['callee'].name)!);
    else if (node.type === 'Identifier' && ['ObjectExpression', 'ArrayExpression'].includes(holders.get(node['name'])?.type ?? '')) exportedNames.add(node['name']);
    if (node.type === 'ObjectExpression') for (const property of node['properties'] as Node[]) if (property.type === 'Property' && property['value']) exported(property['value'], false);
  };
  for (const statement of program['body'] as Node[]) {
    const expression = statement.type === 'ExpressionStatement' ? unwrap(statement['expression']) : undefined;
    if (expression?.type === 'AssignmentExpression' && exportsRoot(expression['left'])) exported(expression['right'], memberPath(expression['left']) === 'module.exports');
  }
  /** Whether `node` writes through `this` ('this') or through an exported module-scope object ('name'). */
  const holderWrite = (node: any): 'this' | 'name' | undefined => {
    const target = node.type === 'AssignmentExpression' ? node.left : node.type === 'UpdateExpression' || (node.type === 'UnaryExpression' && node.operator === 'delete') ? node.argument : undefined;
    if (target?.type !== 'MemberExpression') return undefined;
    let root = target;
    while (root.type === 'MemberExpression') root = root.object;
    return root.type === 'ThisExpression' ? 'this' : root.type === 'Identifier' && exportedNames.has(root.name) ? 'name' : undefined;
  };
  // A constructor's `this` is a new instance, not yet exported (`new Config()` sets its defaults).
  const constructors = new Set<Node>();
  walkNodes(program['body'], (node) => {
    if (node.type === 'MethodDefinition' && node['kind'] === 'constructor') constructors.add(node['value']);
  });
  const inOwner = (fn: Node): boolean => thisOwners.some((owner) => fn.start >= owner.start && fn.end <= owner.end);
  let found = false;
  walkNodes(program['body'], (fn) => {
    if (found || !isFunctionLike(fn)) return !found;
    const viaThis = fn.type !== 'ArrowFunctionExpression' && !constructors.has(fn) && inOwner(fn);
    walkNodes(fn, (node) => {
      const through = holderWrite(node);
      if (writes(node) || through === 'name' || (through === 'this' && viaThis)) found = true;
      return !found;
    });
    return false;
  });
  return found;
}

/**
 * Whether the site keeps a value read from the module's exports (a destructured name, a
 * member, an interop copy, an alias) rather than the exports object itself: read at first use
 * instead of at load, it would see a change made in between.
 */
export function keepsValue(site: DeferSite): boolean {
  if (site.kind !== 'require') return false;
  return site.alias !== undefined || [...site.locals.values()].some((name) => name !== '') || !/^\(*\s*require\((["'`])[^"'`]*\1\)\s*\)*$/.test(site.init ?? '');
}

/** Globals the rewrite's generated code reads at the module's top level (the helper's
 *  `globalThis[Symbol.for(...)]`, a builtin cell's `globalThis.process`). */
const generatedReads = ['globalThis', 'Symbol'];

/** Whether the module binds one of those names itself (a declaration or an import), which the generated code would read instead. */
function declaresGeneratedNames(program: Node): boolean {
  const declared = moduleScopeDeclarations(program);
  for (const statement of program['body'] as Node[]) {
    if (statement.type === 'ImportDeclaration') for (const spec of statement['specifiers'] as Node[]) declared.set(spec['local'].name, 1);
  }
  return generatedReads.some((name) => declared.has(name));
}

/** How many declarations bind each name in the module's own scope (blocks included, nested functions not). */
function moduleScopeDeclarations(program: Node): Map<string, number> {
  const counts = new Map<string, number>();
  const count = (name: string): void => {
    counts.set(name, (counts.get(name) ?? 0) + 1);
  };
  walkNodes(program['body'], (node) => {
    if (node.type === 'VariableDeclarator') for (const name of patternNamesOf(node.id)) count(name);
    if ((node.type === 'FunctionDeclaration' || node.type === 'ClassDeclaration') && node.id) count(node.id.name);
    return !(isFunctionLike(node) || node.type === 'ClassExpression' || node.type === 'ClassDeclaration');
  });
  return counts;
}

/**
 * `accepted` with every alias site and the site it reads agreeing: an alias whose site loads at
 * once loads at once too, and a site one of whose aliases loads at once is read at load, so it
 * loads at once. Changes `accepted` in place; returns the sites it dropped.
 */
export function settleAliases(sites: readonly DeferSite[], accepted: Set<DeferSite>): DeferSite[] {
  const dropped: DeferSite[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const site of sites) {
      if (site.alias === undefined) continue;
      const drop = accepted.has(site) && !accepted.has(site.alias) ? site : !accepted.has(site) && accepted.has(site.alias) ? site.alias : undefined;
      if (drop !== undefined) {
        accepted.delete(drop);
        dropped.push(drop);
        changed = true;
      }
    }
  }
  return dropped;
}

/**
 * `name = require("x")` as a statement of a top-level invoked function that runs none of its
 * own functions while the module loads (restless), where `name` is that function's own `var`,
 * declared once without a value, assigned nowhere else, never deleted, and read only inside the
 * functions it defines: a site whose rewrite keeps the assignment (`name = lazy(...)`) and
 * reads `name.m`. Names a top-level site owns are left alone (one owner per name).
 */
function invokedRequireSites(program: Node, source: string, taken: ReadonlyMap<string, DeferSite> | undefined): { sites: DeferSite[]; references: Reference[] } {
  const sites: DeferSite[] = [];
  const references: Reference[] = [];
  const claimed = new Set<string>(taken?.keys() ?? []);
  const wrappers = invokedWrappers(program);
  for (const wrapper of wrappers) {
    if (restless(wrapper) !== undefined) continue;
    const body = wrapper['body']['body'] as Node[];
    // The body is searched as a program of its own, so it says whether the code around it is strict.
    const strict = strictBody(program['body']) || wrappers.some((outer) => outer.start <= wrapper.start && wrapper.end <= outer.end && strictBody(outer['body']['body']));
    // Declarations of the wrapper's own scope (not inside the functions it defines), and every
    // `delete name` anywhere in it.
    const declarations = new Map<string, number>();
    const deleted = new Set<string>();
    const functions: [number, number][] = [];
    const scan = (node: any, own: boolean): void => {
      if (!node || typeof node !== 'object') return;
      if (Array.isArray(node)) {
        for (const child of node) scan(child, own);
        return;
      }
      if (typeof node.type !== 'string') return;
      let inner = own;
      if (isFunctionLike(node) && node !== wrapper) {
        functions.push([node.start, node.end]);
        if (own && node.type === 'FunctionDeclaration' && node.id) declarations.set(node.id.name, (declarations.get(node.id.name) ?? 0) + 2);
        inner = false;
      }
      if (own && node.type === 'VariableDeclarator') for (const name of patternNamesOf(node.id)) declarations.set(name, (declarations.get(name) ?? 0) + (node.init ? 2 : 1));
      if (node.type === 'UnaryExpression' && node.operator === 'delete' && node.argument?.type === 'Identifier') deleted.add(node.argument.name);
      for (const key in node) {
        if (key === 'type') continue;
        const child = node[key];
        if (child && typeof child === 'object') scan(child, inner);
      }
    };
    scan(wrapper['body'], true);
    const insideOwnFunction = (at: number): boolean => functions.some(([start, end]) => at >= start && at < end);
    for (const statement of body) {
      const assignment = statement.type === 'ExpressionStatement' ? (statement['expression'] as Node) : undefined;
      if (assignment?.type !== 'AssignmentExpression' || assignment['operator'] !== '=' || assignment['left'].type !== 'Identifier') continue;
      const name = assignment['left'].name as string;
      const specifier = requireSpecifier(unwrap(assignment['right']));
      if (specifier === undefined || declarations.get(name) !== 1 || deleted.has(name) || claimed.has(name)) continue;
      const refs = findReferences({ type: 'Program', body, start: wrapper.start, end: wrapper.end } as Node, new Set([name]), strict);
      const writes = refs.filter((ref) => ref.kind === 'write');
      const reads = refs.filter((ref) => ref.kind !== 'write');
      if (writes.length !== 1 || writes[0]!.start !== assignment['left'].start) continue;
      if (!reads.every((ref) => ref.kind !== 'export' && insideOwnFunction(ref.start))) continue;
      claimed.add(name);
      sites.push({
        kind: 'require',
        specifier,
        start: assignment.start,
        end: assignment.end,
        object: name,
        read: `${name}.m`,
        locals: new Map([[name, '']]),
        init: source.slice(assignment['right'].start, assignment['right'].end),
        keep: false,
      });
      references.push(...reads);
    }
  }
  return { sites, references };
}

/** moduleFacts of a CommonJS module. */
export function commonJsFacts(source: string, file: string): ReturnType<typeof moduleFacts> {
  return moduleFacts(source, file, 'commonjs');
}

/**
 * The module's source with `accepted` declarations loading at first use: each becomes a getter
 * made by a helper declared on the first line (no line is added), and every reference reads
 * through it. Undefined when nothing is accepted.
 */
export function lowerLearned(source: string, facts: { plan: DeferPlan | undefined }, accepted: ReadonlySet<DeferSite>): string | undefined {
  const plan = facts.plan;
  const bare = [...accepted].filter((site) => site.bare === true);
  if ((plan === undefined && bare.length === 0) || accepted.size === 0) return undefined;
  // An alias rewritten without its site (or the reverse) would read the wrong value.
  const settled = new Set(accepted);
  if (plan !== undefined) settleAliases(plan.sites, settled);
  if (settled.size === 0) return undefined;
  const s = new MagicString(source);
  // An ordering import whose module loads through another import anyway: nothing left to do.
  for (const site of bare) {
    const text = keepLines(source, site.start, site.end, '');
    if (text === '') s.remove(site.start, site.end);
    else s.overwrite(site.start, site.end, text, { contentOnly: true });
  }
  if (plan === undefined) return s.toString();
  const helper = uniqueName(source, '__coldstart_lazy');
  let requires = false;
  // Builtin cells are function declarations (hoisted, like the helper): an import binding exists before any
  // of the module's code runs, and a cycle can call one of its functions before its body does.
  let cells = '';
  for (const site of plan.sites) {
    if (!settled.has(site)) {
      site.keep = true;
    } else if (site.builtin === true) {
      requires = true;
      const { line, column } = position(source, site.start);
      const specifier = JSON.stringify(site.specifier);
      // globalThis.process: the module may bind its own `process` (an import of "process", maybe deferred too).
      cells += `function ${site.object}() { return (${site.object}.c ??= ${helper}(() => globalThis.process.getBuiltinModule(${specifier}), ${specifier}, ${line}, ${column})).m; } `;
      s.overwrite(site.start, site.end, keepLines(source, site.start, site.end, ''), { contentOnly: true });
    } else if (site.kind === 'require') {
      requires = true;
      const { line, column } = position(source, site.start);
      // A pattern's properties are read once, at first use, as the declaration read them once.
      const names = [...new Set(site.locals.values())];
      const value = names.length > 0 && !names.includes('') ? `((v) => ({ ${names.map((name) => `${JSON.stringify(name)}: v[${JSON.stringify(name)}]`).join(', ')} }))(${site.init})` : `(${site.init})`;
      // An alias's load is its require's, which the lazy-load records count already; its named
      // function tells them to look past it for the use that forced the load.
      const load =
        site.alias === undefined
          ? `${site.object} = ${helper}(() => ${value}, ${JSON.stringify(site.specifier)}, ${line}, ${column})`
          : `${site.object} = ${helper}(function ${viaFrame}() { return ${value}; }, null, ${line}, ${column})`;
      s.overwrite(site.start, site.end, keepLines(source, site.start, site.end, load), { contentOnly: true });
    } else {
      // An import: the stand-in the defer hooks answer with a deferred namespace (as auto-defer's).
      const { line, column } = position(source, site.start);
      // `=`: the target was checked here for top-level await; the hooks need not read it to know.
      const text = `import ${site.object} from ${JSON.stringify(`${specifierPrefix}${line}:${column}:=${site.specifier}`)};`;
      s.overwrite(site.start, site.end, keepLines(source, site.start, site.end, text), { contentOnly: true });
    }
  }
  rewriteReferences(s, plan, source);
  // Under `coldstart profile` (or `lazy`) a global records each first use (lazy/learned-records.ts);
  // otherwise it is one property read per deferred require, at its first use.
  if (requires) {
    const recorded = `globalThis[Symbol.for(${JSON.stringify(learnedLoadKey)})]`;
    const file = plan.commonjs ? 'typeof __filename === "string" ? __filename : ""' : 'import.meta.filename ?? ""';
    // Function declarations, hoisted: on a line of their own after the last, so that no line of
    // the module's own (a minified file's only line) is longer for them.
    s.append(`\nfunction ${helper}(load, specifier, line, column) { let done = false, value; return { get m() { if (!done) { const seen = ${recorded}; value = seen === undefined || specifier === null ? load() : seen(load, specifier, ${file}, line, column); done = true; } return value; } }; } ${cells}`);
  }
  return s.toString();
}

export type { DeferSite };
