/**
 * Checks that documentation says only what the tree holds: every relative link of a Markdown file
 * resolves to an existing file, and every "`name` in file.ts" reference names something declared in
 * that file. Used by test/docs/learn.test.ts over docs/learn/*.md, docs/*.md and README.md, so a new
 * chapter is covered the moment it exists.
 *
 * The naming convention (documented in docs/learn/README.md): a backticked identifier, then " in ",
 * then the file, either as a link or as a backticked path from the repository root:
 *     `backward` in [`engine/autograd.ts`](../../engine/autograd.ts)
 *     `Tensor.backward` in `engine/tensor.ts`
 * A backticked path needs a folder (`engine/tensor.ts`): a bare `gemm.ts` in prose is not checked.
 * `A.b` requires both `A` and `b` to be declared in the file. A declaration is a function, class,
 * interface, type, enum, const / let, or a method, getter or property at the start of a line.
 *
 * Not here: links to the web (never fetched; tests run offline) and anchors inside files (#...).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface DocProblem {
  file: string;
  line: number;
  message: string;
}

/** `[text](target)` and `![alt](target)`; the target stops at whitespace or ')'. */
const LINK = /!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
/** "`name` in [`label`](target.ts)" or "`name` in `path.ts`". */
const NAMED_IN = /`([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?:\(\))?` in (?:\[[^\]]*\]\(([^)\s]+\.ts)\)|`([\w.-]+\/[\w./-]+\.ts)`)/g;

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** Lines of a Markdown file with fenced code blocks blanked (code is not prose: `a](b)` in code is not a link). */
function proseLines(text: string): string[] {
  let inFence = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return '';
    }
    return inFence ? '' : line;
  });
}

/** Every relative link in `mdFile` that does not resolve to an existing file or folder. */
export function checkLinks(mdFile: string, root: string): DocProblem[] {
  const problems: DocProblem[] = [];
  const file = relative(root, mdFile);
  proseLines(readFileSync(mdFile, 'utf8')).forEach((line, i) => {
    for (const m of line.matchAll(LINK)) {
      const target = m[1];
      if (isExternal(target) || target.startsWith('#')) continue;
      const path = decodeURI(target.split('#')[0]);
      const abs = resolve(dirname(mdFile), path);
      if (!existsSync(abs)) problems.push({ file, line: i + 1, message: `broken link "${target}" (no ${relative(root, abs)})` });
    }
  });
  return problems;
}

/** True when `name` is declared in the TypeScript source `src`. */
export function declares(src: string, name: string): boolean {
  const n = name.replace(/\$/g, '\\$');
  const patterns = [
    `\\b(?:function\\*?|class|interface|type|enum|const|let|var|namespace)\\s+${n}\\b`,
    // a method, getter, setter or property at the start of a line (class or interface member)
    `^\\s*(?:(?:public|private|protected|readonly|static|override|abstract|declare|async|get|set)\\s+)*${n}\\s*[?!]?\\s*[(<:=]`,
    // re-exported names: export { name } / export { other as name }
    `^export\\s+(?:type\\s+)?\\{[^}]*\\b${n}\\b[^}]*\\}`,
  ];
  return patterns.some((p) => new RegExp(p, 'm').test(src));
}

/** Every "`name` in file.ts" in `mdFile` whose file is missing or does not declare the name. */
export function checkNames(mdFile: string, root: string): DocProblem[] {
  const problems: DocProblem[] = [];
  const file = relative(root, mdFile);
  proseLines(readFileSync(mdFile, 'utf8')).forEach((line, i) => {
    for (const m of line.matchAll(NAMED_IN)) {
      const [, name, linked, rootPath] = m;
      const abs = linked !== undefined ? resolve(dirname(mdFile), linked) : join(root, rootPath);
      const shown = relative(root, abs);
      if (!existsSync(abs) || !statSync(abs).isFile()) {
        problems.push({ file, line: i + 1, message: `\`${name}\` in ${shown}: no such file` });
        continue;
      }
      const src = readFileSync(abs, 'utf8');
      for (const part of name.split('.')) {
        if (!declares(src, part)) problems.push({ file, line: i + 1, message: `\`${name}\`: ${shown} declares no "${part}"` });
      }
    }
  });
  return problems;
}

/** How many "`name` in file.ts" references `mdFile` has (a chapter with none names nothing checkable). */
export function countNames(mdFile: string): number {
  return proseLines(readFileSync(mdFile, 'utf8')).reduce((n, line) => n + [...line.matchAll(NAMED_IN)].length, 0);
}

export const formatProblems = (ps: readonly DocProblem[]): string =>
  ps.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n');
