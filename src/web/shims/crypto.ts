// node:crypto in the browser: createHash('sha256') for the model fingerprint.
// WebCrypto's digest is asynchronous and the loaders are not, so the page hashes
// each file it mounts beforehand (registerDigest) and this shim answers for exactly
// those bytes; anything else is an error, never a made-up fingerprint.

const digests = new Map<Uint8Array, string>();

export function registerDigest(bytes: Uint8Array, sha256hex: string): void {
  digests.set(bytes, sha256hex);
}

export function createHash(algorithm: string) {
  if (algorithm !== 'sha256') throw new Error(`createHash(${algorithm}) is not available in the browser`);
  let data: Uint8Array | undefined;
  const hash = {
    update(bytes: Uint8Array) {
      if (data) throw new Error('createHash in the browser hashes one mounted file at a time');
      data = bytes;
      return hash;
    },
    digest(encoding: string) {
      const hex = data && digests.get(data);
      if (!hex || encoding !== 'hex') throw new Error('sha256 of bytes the page did not mount');
      return hex;
    },
  };
  return hash;
}

export default { createHash, registerDigest };
