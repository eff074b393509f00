import { table3 } from './spec/table-3-quality.js';
const t = performance.now();
const r = await table3.run({ seed: 1, heavy: false, figuresDir: '/tmp/i9/fig', progress: (m, f) => { if (m.startsWith('cal') || m.endsWith('0/100')) console.error(m, ((performance.now() - t) / 1000).toFixed(1)); } });
console.log(((performance.now() - t) / 1000).toFixed(1), 's');
console.log(r.verdict);
for (const p of r.parts!) console.log(p.id, p.verdict, '|', p.reason.slice(0, 400));
console.log(r.reason);
