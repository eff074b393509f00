// node:os in the browser: what backends report as their device.

export function cpus(): { model: string }[] {
  const n = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  const model = typeof navigator !== 'undefined' ? `browser CPU (${navigator.userAgent.match(/(Chrome|Firefox|Safari)\/[\d.]+/)?.[0] ?? 'unknown'})` : 'cpu';
  return Array.from({ length: n }, () => ({ model }));
}

export const constants = { dlopen: {} };

export default { cpus, constants };
