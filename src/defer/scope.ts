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
    const node = statement.type === 'ExportNamedDeclaration' || statement.type === 'ExportDefaultDeclaration' ? statement['declaration'] : statement;
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

/** `var` declarations anywhere in a function body, not entering nested functions. */
function varDeclarations(node: Node | null | undefined, names: Set<string>): void {
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
 * Every reference to one of `names` that resolves to the module scope. The module scope's own
 * declarations are the caller's business; inner scopes that redeclare a name hide it.
 */
export function findReferences(program: Node, names: ReadonlySet<string>): Reference[] {
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

  const fn = (node: Node): void => {
    const own = new Set<string>();
    if (node.type === 'FunctionExpression' && node['id']) own.add(node['id'].name);
    for (const param of node['params']) for (const n of patternNames(param)) own.add(n);
    if (node['body']?.type === 'BlockStatement') {
      varDeclarations(node['body'].body, own);
      blockDeclarations(node['body'].body, own);
    }
    withScope(own, () => {
      for (const param of node['params']) pattern(param, true);
      if (node['body']?.type === 'BlockStatement') for (const s of node['body'].body) visit(s);
      else visit(node['body']);
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
        visit(node['superClass']);
        withScope(own, () => visit(node['body']));
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
