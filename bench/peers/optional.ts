/**
 * Loading an optional benchmark peer (onnxruntime-node, tfjs) that may not be installed.
 *
 * `npm ci` installs onnxruntime-node as an optional dependency: where its install script cannot
 * download what it wants (no network beyond the npm registry), npm drops it and the install still
 * succeeds. A bench then finds the package missing; `importPeer` returns null and prints the one
 * command that adds it, instead of crashing. The specifier is a variable so that TypeScript does
 * not need the package's types on a machine without it: callers describe the slice they use.
 *
 * Not here: timing, or any peer's API.
 */

/** How to add each peer by hand (the command a user can paste). */
export const PEER_INSTALL: Readonly<Record<string, string>> = {
  'onnxruntime-node': 'ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node   (CPU binaries ship in the package)',
  '@tensorflow/tfjs-core': 'npm install --no-save @tensorflow/tfjs-core @tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-wasm': 'npm install --no-save @tensorflow/tfjs-core @tensorflow/tfjs-backend-wasm',
};

/** The package's module, or null (with a line on stderr saying why and how to add it). */
export async function importPeer<T>(name: string): Promise<T | null> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing = e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND';
    const how = PEER_INSTALL[name] ?? `npm install --no-save ${name}`;
    console.warn(missing
      ? `${name} skipped: not installed (an optional peer). Add it with: ${how}`
      : `${name} skipped: ${e.message}. Reinstall it with: ${how}`);
    return null;
  }
}
