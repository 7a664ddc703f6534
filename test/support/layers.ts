// The layer checker behind test/layers.test.ts: parses the `| folder | may import | why |` table
// of docs/architecture.md, extracts every module specifier of a source file (with the TypeScript
// parser, so multi-line statements, comments and strings cannot fool it) and reports each
// relative import whose target folder the table does not allow. Pure: the test feeds it files.
import path from 'node:path';
import ts from 'typescript';

/** Folder name used for files that sit directly in src/. */
export const ROOT_FOLDER = '(root)';

/** folder → the folders it may import (itself always allowed, not listed). */
export type LayerRules = Map<string, Set<string>>;

export interface SourceFile {
  /** Path relative to the repository root, posix separators, e.g. `src/hub/ingest.ts`. */
  path: string;
  text: string;
}

export interface ImportSpecifier {
  specifier: string;
  line: number;
}

/**
 * Parses the layer table out of a Markdown document: the first table whose header row is exactly
 * `| folder | may import | why |`. "may import" holds backticked folder names separated by
 * commas, or `—` for none. Throws on a missing table or a malformed row.
 */
export function parseLayerTable(markdown: string): LayerRules {
  const lines = markdown.split('\n');
  const cells = (line: string): string[] =>
    line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  const header = lines.findIndex((l) => /^\s*\|/.test(l) && cells(l).join('|') === 'folder|may import|why');
  if (header < 0) throw new Error('no table with the header | folder | may import | why |');
  if (!/^\s*\|\s*:?-{3,}/.test(lines[header + 1] ?? '')) throw new Error('the layer table has no |---| row under its header');
  const rules: LayerRules = new Map();
  for (let i = header + 2; i < lines.length && /^\s*\|/.test(lines[i]!); i++) {
    const row = cells(lines[i]!);
    if (row.length !== 3) throw new Error(`layer table line ${i + 1}: expected 3 cells, got ${row.length}`);
    const folder = /^`([^`]+)`$/.exec(row[0]!)?.[1];
    if (folder === undefined) throw new Error(`layer table line ${i + 1}: folder must be one name in backticks, got '${row[0]}'`);
    if (rules.has(folder)) throw new Error(`layer table line ${i + 1}: folder '${folder}' listed twice`);
    const allowed = new Set<string>();
    const may = row[1]!;
    if (may !== '—' && may !== '-') {
      for (const item of may.split(',').map((s) => s.trim())) {
        const name = /^`([^`]+)`$/.exec(item)?.[1];
        if (name === undefined) throw new Error(`layer table line ${i + 1}: '${item}' in "may import" is not a folder name in backticks`);
        allowed.add(name);
      }
    }
    rules.set(folder, allowed);
  }
  if (rules.size === 0) throw new Error('the layer table has no rows');
  return rules;
}

/**
 * Every module specifier in a TypeScript source: `import … from`, `import type`, side-effect
 * `import '…'`, `export … from`, `import x = require('…')`, `require('…')`, dynamic `import('…')`
 * and type-level `import('…').T`. A dynamic import of a `const` declared in the same file with a
 * string literal is followed to that literal. Specifiers that cannot be known statically are
 * returned as `{ specifier: '', … }` so the caller can report them.
 */
export function extractImportSpecifiers(text: string, fileName: string): ImportSpecifier[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const constStrings = new Map<string, string>();
  const out: ImportSpecifier[] = [];
  const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const literal = (node: ts.Node | undefined): string | undefined =>
    node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;
  const add = (spec: string | undefined, node: ts.Node) => out.push({ specifier: spec ?? '', line: lineOf(node) });

  // Collect `const NAME = 'literal'` anywhere in the file (names are rarely shadowed; good enough).
  const collect = (node: ts.Node): void => {
    if (ts.isVariableDeclarationList(node) && (node.flags & ts.NodeFlags.Const) !== 0) {
      for (const d of node.declarations) {
        const value = literal(d.initializer);
        if (ts.isIdentifier(d.name) && value !== undefined) constStrings.set(d.name.text, value);
      }
    }
    ts.forEachChild(node, collect);
  };
  collect(sf);

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined)) {
      add(literal(node.moduleSpecifier), node);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(literal(node.moduleReference.expression), node);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      add(ts.isLiteralTypeNode(arg) ? literal(arg.literal) : undefined, node);
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require' && node.arguments.length === 1;
      if (isImport || isRequire) {
        const arg = node.arguments[0];
        let spec = literal(arg);
        if (spec === undefined && arg !== undefined && ts.isIdentifier(arg)) spec = constStrings.get(arg.text);
        add(spec, node);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The top-level src/ folder of a repo-relative path, or undefined if it is not under src/. */
export function folderOf(repoPath: string): string | undefined {
  const parts = path.posix.normalize(repoPath).split('/');
  if (parts[0] !== 'src' || parts.length < 2 || parts.includes('..')) return undefined;
  return parts.length === 2 ? ROOT_FOLDER : parts[1];
}

export const isTestFile = (p: string): boolean => /\.test\.[cm]?ts$/.test(p);

const DOC = 'docs/architecture.md';

/**
 * Checks files against the rules. `folders` are the folders that exist under src/ (plus
 * ROOT_FOLDER when files sit directly in src/). Returns one readable line per problem; empty
 * means the layers hold.
 */
export function checkLayers(files: readonly SourceFile[], rules: LayerRules, folders: readonly string[]): string[] {
  const problems: string[] = [];
  for (const f of folders) if (!rules.has(f)) problems.push(`${f === ROOT_FOLDER ? `src/ (files directly in it, folder '${ROOT_FOLDER}')` : `src/${f}/`} is missing from the layer table (${DOC})`);
  for (const [f, allowed] of rules) {
    if (!folders.includes(f)) problems.push(`the layer table names folder '${f}', which does not exist under src/ (${DOC})`);
    for (const a of allowed) {
      if (!folders.includes(a)) problems.push(`the layer table lets '${f}' import '${a}', which does not exist under src/ (${DOC})`);
    }
  }
  for (const file of files) {
    if (isTestFile(file.path)) continue;
    const from = folderOf(file.path);
    if (from === undefined) {
      problems.push(`${file.path} is not under src/`);
      continue;
    }
    for (const { specifier, line } of extractImportSpecifiers(file.text, file.path)) {
      if (specifier === '') {
        problems.push(`${file.path}:${line} has an import whose specifier is not a string literal or a const string; the layers cannot check it (${DOC})`);
        continue;
      }
      if (specifier.startsWith('/')) {
        problems.push(`${file.path} imports ${specifier}: an absolute path leaves src/ (${DOC})`);
        continue;
      }
      if (!specifier.startsWith('.')) continue; // node: and npm packages
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), specifier));
      const to = folderOf(target);
      if (to === undefined) {
        problems.push(`${file.path} imports ${specifier}: it leaves src/ (${target}) (${DOC})`);
        continue;
      }
      if (to === from) continue;
      if (!rules.get(from)?.has(to)) problems.push(`${file.path} imports ${specifier}: ${from} may not import ${to} (${DOC})`);
    }
  }
  return problems;
}
