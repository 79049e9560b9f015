#!/usr/bin/env node
// The `spt-seg` command as npm links it (package.json "bin"). In a clone, where cli/spt-seg.ts is,
// it runs the TypeScript sources through tsx (a devDependency), so `npx spt-seg` always runs what is
// checked out, built or not; in an installed package, which ships only the build, it runs
// dist/cli/spt-seg.js (`npm run build`) under plain node.
import { existsSync } from 'node:fs';

const source = new URL('../cli/spt-seg.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import('../dist/cli/spt-seg.js');
}
process.exitCode = await cli.main(process.argv.slice(2));
