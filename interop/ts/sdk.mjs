// Loads modules of the TypeScript MCP SDK installed by interop/setup.sh.
// ESM ignores NODE_PATH, so modules are imported by absolute file URL from the folder in
// $MCP_INTEROP_NODE_DIR (default: <repo>/target/interop/node).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const NODE_DIR = process.env.MCP_INTEROP_NODE_DIR || path.resolve(here, '..', '..', 'target', 'interop', 'node');

/** `await sdk('client/index.js')` imports `@modelcontextprotocol/sdk/dist/esm/client/index.js`. */
export function sdk(rel) {
    const file = path.join(NODE_DIR, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm', rel);
    return import(pathToFileURL(file).href);
}

/** Every wait is bounded: rejects after `ms` with `what` in the message. */
export function within(ms, what, promise) {
    let timer;
    const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    });
    return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
