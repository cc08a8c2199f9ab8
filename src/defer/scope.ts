// Finds every read of chosen module-scope bindings in an ESTree program (as oxc-parser gives it),
// skipping places where an inner declaration shadows them, so the transform can rewrite exactly
// the references that mean the imported binding.

/** An ESTree node: only the fields this walker reads are typed. */
export interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: any;
}

export type ReferenceKind =
  /** A plain read: `a`, `a.b`, `typeof a`. */
  | 'read'
  /** The callee of a call or a tag: rewritten as `(0, ns.a)` so `this` stays undefined. */
  | 'callee'
  /** `{ a }` in an object literal: rewritten as `a: ns.a`. */
  | 'shorthand'
  /** `export { a }`: the binding leaves the module, which a rewrite cannot follow. */
  | 'export'
  /** `a = 1`, `a++`, `[a] = x`: a write to an import (a TypeError at run time). */
  | 'write';

export interface Reference {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly kind: ReferenceKind;
}

/** Keys that hold TypeScript types or decorators metadata: never value references. */
const typeKeys = new Set(['typeAnnotation', 'returnType', 'typeParameters', 'typeArguments', 'superTypeArguments', 'superTypeParameters', 'implements']);

function isFunction(node: Node): boolean {
  return node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression';
}

/** Names a binding pattern declares: `a`, `{ a, b: [c] }`, `...d`, `e = 1`. */
export function patternNames(pattern: Node | null | undefined, out: string[] = []): string[] {
  if (!pattern) return out;
  switch (pattern.type) {
    case 'Identifier':
      out.push(pattern['name']);
      break;
    case 'ObjectPattern':
      for (const property of pattern['properties']) patternNames(property.type === 'RestElement' ? property.argument : property.value, out);
      break;
    case 'ArrayPattern':
      for (const element of pattern['elements']) patternNames(element, out);
      break;
    case 'RestElement':
      patternNames(pattern['argument'], out);
      break;
    case 'AssignmentPattern':
      patternNames(pattern['left'], out);
      break;
    case 'TSParameterProperty':
      patternNames(pattern['parameter'], out);
      break;
  }
  return out;
}

/** Declarations a block-like body makes directly: let, const, class, function (block scoped in modules). */
function blockDeclarations(body: Node[], names: Set<string>): void {
  for (const statement of body) {
    let node = statement.type === 'ExportNamedDeclaration' || statement.type === 'ExportDefaultDeclaration' ? statement['declaration'] : statement;
    // Sloppy code may label a function declaration, which still declares it in this block.
    while (node?.type === 'LabeledStatement') node = node['body'];
    if (!node) continue;
    if (node.type === 'VariableDeclaration' && node['kind'] !== 'var') {
      for (const d of node['declarations']) for (const n of patternNames(d.id)) names.add(n);
    } else if ((node.type === 'ClassDeclaration' || node.type === 'FunctionDeclaration') && node['id']) {
      names.add(node['id'].name);
    } else if (node.type === 'TSEnumDeclaration' || node.type === 'TSModuleDeclaration') {
      if (node['id']?.type === 'Identifier') names.add(node['id'].name);
    }
  }
}

/** Whether a body's directive prologue makes its code strict. */
export function strictBody(body: Node[]): boolean {
  for (const statement of body) {
    if (typeof statement['directive'] !== 'string') return false;
    if (statement['directive'] === 'use strict') return true;
  }
  return false;
}

/** `var` declarations anywhere in a function body (or a class static block), not entering nested functions or classes. */
function varDeclarations(node: Node | Node[] | null | undefined, names: Set<string>): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) varDeclarations(child, names);
    return;
  }
  if (typeof node.type !== 'string') return;
  if (isFunction(node) || node.type === 'ClassBody') return;
  if (node.type === 'VariableDeclaration' && node['kind'] === 'var') {
    for (const d of node['declarations']) for (const n of patternNames(d.id)) names.add(n);
  }
  for (const key in node) {
    if (key === 'type' || typeKeys.has(key)) continue;
    const child = node[key];
    if (child && typeof child === 'object') varDeclarations(child, names);
  }
}

/**
 * Function declarations in blocks of sloppy code, which also bind a `var` of the enclosing
 * function wherever a `var` of that name would be allowed (Annex B.3.3): `{ function a() {} } a();`.
 * `blocked` holds the lexical names of the enclosing blocks, which forbid that `var`.
 */
function annexBFunctions(node: Node | Node[] | null | undefined, blocked: ReadonlySet<string>, names: Set<string>): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) annexBFunctions(child, blocked, names);
    return;
  }
  if (typeof node.type !== 'string' || isFunction(node) || node.type === 'ClassBody') return;
  const hoist = (statement: Node | null | undefined): void => {
    let item = statement;
    while (item?.type === 'LabeledStatement') item = item['body'];
    if (item?.type === 'FunctionDeclaration' && item['id'] && !blocked.has(item['id'].name)) names.add(item['id'].name);
  };
  const own = new Set<string>();
  if (node.type === 'BlockStatement' || node.type === 'SwitchStatement') {
    const list: Node[] = node.type === 'BlockStatement' ? node['body'] : node['cases'].flatMap((c: Node) => c['consequent']);
    for (const statement of list) hoist(statement);
    blockDeclarations(list, own);
  } else if (node.type === 'IfStatement') {
    // `if (a) function f() {}` is read as if the function stood in a block of its own (B.3.4).
    hoist(node['consequent']);
    hoist(node['alternate']);
  } else if (node.type === 'ForStatement' || node.type === 'ForInStatement' || node.type === 'ForOfStatement') {
    const head = node.type === 'ForStatement' ? node['init'] : node['left'];
    if (head?.type === 'VariableDeclaration' && head['kind'] !== 'var') for (const d of head['declarations']) for (const n of patternNames(d.id)) own.add(n);
  } else if (node.type === 'CatchClause' && node['param'] && node['param'].type !== 'Identifier') {
    // Only a plain catch parameter may share its name with a `var` of the catch block (B.3.4).
    for (const n of patternNames(node['param'])) own.add(n);
  }
  const inner = own.size === 0 ? blocked : new Set([...blocked, ...own]);
  for (const key in node) {
    if (key === 'type' || typeKeys.has(key)) continue;
    const child = node[key];
    if (child && typeof child === 'object') annexBFunctions(child, inner, names);
  }
}

/**
 * Every reference to one of `names` that resolves to the module scope. The module scope's own
 * declarations are the caller's business; inner scopes that redeclare a name hide it. `strict`
 * says whether the program's code is strict (ES modules always are), where a caller passes part
 * of a program as one.
 */
export function findReferences(program: Node, names: ReadonlySet<string>, strict = program['sourceType'] === 'module' || strictBody(program['body'])): Reference[] {
  const found: Reference[] = [];
  const scopes: Set<string>[] = [];

  const shadowed = (name: string): boolean => scopes.some((scope) => scope.has(name));
  const note = (id: Node, kind: ReferenceKind): void => {
    if (names.has(id['name']) && !shadowed(id['name'])) found.push({ name: id['name'], start: id.start, end: id.end, kind });
  };
  const withScope = (names: Set<string>, body: () => void): void => {
    scopes.push(names);
    try {
      body();
    } finally {
      scopes.pop();
    }
  };

  /** A pattern in a declaration or an assignment target: names are writes, defaults and computed keys are reads. */
  const pattern = (node: Node | null | undefined, declaring: boolean): void => {
    if (!node) return;
    switch (node.type) {
      case 'Identifier':
        if (!declaring) note(node, 'write');
        return;
      case 'ObjectPattern':
        for (const property of node['properties']) {
          if (property.type === 'RestElement') pattern(property.argument, declaring);
          else {
            if (property.computed) visit(property.key);
            pattern(property.value, declaring);
          }
        }
        return;
      case 'ArrayPattern':
        for (const element of node['elements']) pattern(element, declaring);
        return;
      case 'RestElement':
        pattern(node['argument'], declaring);
        return;
      case 'AssignmentPattern':
        pattern(node['left'], declaring);
        visit(node['right']);
        return;
      case 'TSParameterProperty':
        pattern(node['parameter'], declaring);
        return;
      default:
        visit(node);
    }
  };

  /** Runs `body` with `strict` set for code that is strict by itself (a class, a "use strict" body). */
  const withStrict = (own: boolean, body: () => void): void => {
    const outer = strict;
    strict ||= own;
    try {
      body();
    } finally {
      strict = outer;
    }
  };

  // Parameters get a scope of their own: their default values and computed keys cannot see the
  // body's declarations (with parameter expressions the body has its own var environment, and a
  // body `var` named as a parameter shadows it either way).
  const fn = (node: Node): void => {
    // TypeScript parameter decorators run where the class is defined, not inside the function.
    for (const param of node['params']) for (const decorator of param['decorators'] ?? []) visit(decorator);
    const statements: Node[] | undefined = node['body']?.type === 'BlockStatement' ? node['body'].body : undefined;
    withStrict(statements !== undefined && strictBody(statements), () => {
      const params = new Set<string>();
      if (node.type === 'FunctionExpression' && node['id']) params.add(node['id'].name);
      if (node.type !== 'ArrowFunctionExpression') params.add('arguments');
      for (const param of node['params']) for (const n of patternNames(param)) params.add(n);
      const locals = new Set<string>();
      if (statements) {
        varDeclarations(statements, locals);
        blockDeclarations(statements, locals);
        if (!strict) annexBFunctions(statements, new Set(), locals);
      }
      withScope(params, () => {
        for (const param of node['params']) pattern(param, true);
        withScope(locals, () => {
          if (statements) for (const s of statements) visit(s);
          else visit(node['body']);
        });
      });
    });
  };

  const visit = (node: Node | null | undefined): void => {
    if (!node || typeof node !== 'object') return;
    switch (node.type) {
      case 'Identifier':
        note(node, 'read');
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        fn(node);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression': {
        const own = new Set<string>();
        if (node['id']) own.add(node['id'].name);
        for (const decorator of node['decorators'] ?? []) visit(decorator);
        // The heritage is evaluated where the class's own name is already bound (in its TDZ).
        withStrict(true, () =>
          withScope(own, () => {
            visit(node['superClass']);
            visit(node['body']);
          }),
        );
        return;
      }
      case 'MethodDefinition':
      case 'PropertyDefinition':
      case 'AccessorProperty':
        for (const decorator of node['decorators'] ?? []) visit(decorator);
        if (node['computed']) visit(node['key']);
        visit(node['value']);
        return;
      case 'Property':
        if (node['computed']) visit(node['key']);
        if (node['shorthand'] && node['value']?.type === 'Identifier') note(node['value'], 'shorthand');
        else visit(node['value']);
        return;
      case 'MemberExpression':
        visit(node['object']);
        if (node['computed']) visit(node['property']);
        return;
      case 'CallExpression':
      case 'NewExpression': {
        const callee = unparen(node['callee']);
        if (node.type === 'CallExpression' && callee.type === 'Identifier') note(callee, 'callee');
        else visit(node['callee']);
        for (const argument of node['arguments']) visit(argument);
        return;
      }
      case 'TaggedTemplateExpression': {
        const tag = unparen(node['tag']);
        if (tag.type === 'Identifier') note(tag, 'callee');
        else visit(node['tag']);
        visit(node['quasi']);
        return;
      }
      case 'AssignmentExpression':
        pattern(node['left'], false);
        visit(node['right']);
        return;
      case 'UpdateExpression':
        if (unparen(node['argument']).type === 'Identifier') note(unparen(node['argument']), 'write');
        else visit(node['argument']);
        return;
      case 'VariableDeclarator':
        pattern(node['id'], true);
        visit(node['init']);
        return;
      case 'BlockStatement':
      case 'StaticBlock': {
        const own = new Set<string>();
        // A static block is a var scope of its own, as a function body is.
        if (node.type === 'StaticBlock') varDeclarations(node['body'], own);
        blockDeclarations(node['body'], own);
        withScope(own, () => {
          for (const s of node['body']) visit(s);
        });
        return;
      }
      case 'SwitchStatement': {
        visit(node['discriminant']);
        const own = new Set<string>();
        for (const c of node['cases']) blockDeclarations(c.consequent, own);
        withScope(own, () => {
          for (const c of node['cases']) visit(c);
        });
        return;
      }
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement': {
        const own = new Set<string>();
        const head = node.type === 'ForStatement' ? node['init'] : node['left'];
        if (head?.type === 'VariableDeclaration' && head.kind !== 'var') for (const d of head.declarations) for (const n of patternNames(d.id)) own.add(n);
        withScope(own, () => {
          if (head?.type === 'VariableDeclaration') visit(head);
          else if (node.type === 'ForStatement') visit(head);
          else pattern(head, false);
          for (const key of ['test', 'update', 'right', 'body']) visit(node[key]);
        });
        return;
      }
      case 'CatchClause': {
        const own = new Set(patternNames(node['param']));
        withScope(own, () => {
          pattern(node['param'], true);
          visit(node['body']);
        });
        return;
      }
      case 'LabeledStatement':
        visit(node['body']);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'MetaProperty':
      case 'ImportDeclaration':
      case 'PrivateIdentifier':
        return;
      case 'ExportNamedDeclaration':
        if (node['declaration']) visit(node['declaration']);
        else if (!node['source']) {
          for (const specifier of node['specifiers']) if (specifier.local?.type === 'Identifier') note(specifier.local, 'export');
        }
        return;
      case 'ExportAllDeclaration':
        return;
      case 'TSTypeAliasDeclaration':
      case 'TSInterfaceDeclaration':
      case 'TSDeclareFunction':
      case 'TSEmptyBodyFunctionExpression':
      case 'TSImportEqualsDeclaration':
        return;
    }
    if (node.type.startsWith('TS') && node.type.includes('Type') && node.type !== 'TSAsExpression' && node.type !== 'TSSatisfiesExpression' && node.type !== 'TSNonNullExpression' && node.type !== 'TSTypeAssertion') return;
    for (const key in node) {
      if (key === 'type' || key === 'start' || key === 'end' || typeKeys.has(key)) continue;
      const child = node[key];
      if (Array.isArray(child)) {
        for (const item of child) if (item && typeof item === 'object' && typeof item.type === 'string') visit(item);
      } else if (child && typeof child === 'object' && typeof child.type === 'string') visit(child);
    }
  };

  for (const statement of program['body'] as Node[]) visit(statement);
  return found;
}

/** `((a))` -> `a`: oxc keeps parentheses as nodes. */
export function unparen(node: Node): Node {
  let current = node;
  while (current?.type === 'ParenthesizedExpression') current = current['expression'];
  return current;
}

/** Whether a program uses `with` or a direct `eval(...)`, where names cannot be resolved statically. */
export function hasDynamicScope(source: string): boolean {
  return /\bwith\s*\(/.test(source) || /(?<![.\w$])eval\s*\(/.test(source);
}
