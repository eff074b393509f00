// node:module in the browser: there are no native addons to require.

export function createRequire(_from: string) {
  return (id: string): never => {
    throw new Error(`Cannot find module '${id}' (no native modules in the browser)`);
  };
}

export default { createRequire };
