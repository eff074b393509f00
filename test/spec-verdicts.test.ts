// Runs `tda spec` (every non-heavy claim check, at its three seeds) in a child process and
// asserts its verdicts equal the recorded ones in spec/expected-verdicts.json. A verdict
// that changes fails here loudly: explain the change (in the commit and the claim's
// write-up), then update the JSON. The child process keeps vitest's worker responsive.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { KINDS, VERDICTS, type Verdict } from '../src/proofs/claim.js';
import { compareVerdicts, DEFAULT_SPEC_DIR, PACKAGE_ROOT } from '../src/proofs/report.js';
import { claims } from '../spec/index.js';

const expected = JSON.parse(readFileSync(join(DEFAULT_SPEC_DIR, 'expected-verdicts.json'), 'utf8')) as Record<string, Verdict>;

interface JsonPart {
  id: string;
  kind: string;
  verdict: Verdict;
  sample?: { n: number; unit: string };
  figures: { name: string; value: number | string; ci?: [number, number] }[];
}
interface JsonClaim {
  id: string;
  kind: string;
  refuted_by: string;
  assumptions: string[];
  seed_free?: boolean;
  timing?: boolean;
  result: { verdict: Verdict; reason: string; sample?: { n: number; unit: string }; parts?: JsonPart[]; figure_paths: string[] };
  seeded: Record<string, { seeds: number[]; by_seed: Verdict[] }>;
}

describe('spec verdicts', () => {
  const reports = mkdtempSync(join(tmpdir(), 'tda-spec-'));
  let report: { seeds: number[]; claims: JsonClaim[]; verdicts: Record<string, Verdict> };
  let stderr = '';

  beforeAll(async () => {
    const run = await promisify(execFile)(process.execPath, [join(PACKAGE_ROOT, 'bin', 'tda.js'), 'spec', '--json', '--reports', reports], {
      maxBuffer: 64 << 20,
      env: { ...process.env, TDA_CLI_FROM: 'dist' }, // compiled by test/setup/global.ts
    }).catch((e: { stdout: string; stderr: string; code: number }) => e);
    stderr = run.stderr;
    report = JSON.parse(run.stdout);
  }, 900_000);

  it('every claim id is unique and has an expected verdict', () => {
    const ids = claims.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(expected[id], `no expectation recorded for ${id}`).toBeDefined();
    for (const v of Object.values(expected)) expect(VERDICTS).toContain(v);
  });

  it('measured verdicts equal spec/expected-verdicts.json (timings excepted: they are the machine\'s)', () => {
    const timing = report.claims.filter((c) => c.timing).map((c) => c.id);
    expect(compareVerdicts(report.verdicts, expected, undefined, timing), stderr.split('\n').slice(-30).join('\n')).toEqual([]);
    // Only the latency claim is a timing.
    expect(timing).toEqual(['latency']);
    expect(claims.filter((c) => c.timing).map((c) => c.id)).toEqual(['latency']);
  });

  it('the latency verdicts follow from the intervals the check reports (TDA: 18–25%; TT − TDA and TDA − Griffin: sign of the interval)', () => {
    const latency = report.claims.find((c) => c.id === 'latency')!;
    const part = (id: string) => latency.result.parts!.find((p) => p.id === id)!;
    const ci = (id: string, name: string): [number, number] => {
      const f = part(id).figures.find((x) => x.name === name);
      expect(f?.ci, `${id}: ${name}`).toBeDefined();
      const [lo, hi] = f!.ci!;
      expect(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi, `${id}: ${name} [${lo}, ${hi}]`).toBe(true);
      return [lo, hi];
    };
    const [tLo, tHi] = ci('tda', 'TDA latency reduction');
    const inRange = tLo >= 0.18 && tHi <= 0.25 ? 'holds' : tHi < 0.18 || tLo > 0.25 ? 'does not hold' : 'inconclusive';
    const sign = ([lo, hi]: [number, number]) => (lo > 0 ? 'holds' : hi < 0 ? 'does not hold' : 'inconclusive');
    expect(part('tda').verdict).toBe(inRange);
    expect(latency.result.verdict).toBe(inRange);
    expect(part('tt').verdict).toBe(sign(ci('tt', '(TT − TDA) / Dense')));
    expect(part('griffin-faster').verdict).toBe(sign(ci('griffin-faster', '(TDA − Griffin) / Dense')));
    expect(latency.result.sample?.n).toBe(120);
  });

  it('every claim and step has a kind; every stochastic verdict has n and at least 3 seeds', () => {
    const check = new Map(claims.map((c) => [c.id, c]));
    for (const c of report.claims) {
      expect(KINDS, c.id).toContain(c.kind);
      const stochastic = c.kind !== 'identity' && !check.get(c.id)!.seedFree;
      if (stochastic) {
        expect(c.result.sample?.n, `${c.id}: n`).toBeGreaterThan(0);
        expect(c.seeded[c.id].seeds.length, `${c.id}: seeds`).toBeGreaterThanOrEqual(3);
      }
      for (const p of c.result.parts ?? []) {
        expect(KINDS, `${c.id}/${p.id}`).toContain(p.kind);
        if (stochastic && p.kind !== 'identity') expect(p.sample?.n, `${c.id}/${p.id}: n`).toBeGreaterThan(0);
        expect(c.seeded[`${c.id}/${p.id}`].by_seed.length, `${c.id}/${p.id}`).toBe(c.seeded[c.id].seeds.length);
      }
    }
  });

  it('each claim states what would have refuted it, and its figures exist as SVG', () => {
    for (const c of report.claims) {
      expect(c.refuted_by.length, c.id).toBeGreaterThan(20);
      expect(c.assumptions.length, c.id).toBeGreaterThan(0);
      expect(c.result.reason.length, c.id).toBeGreaterThan(40);
      for (const p of c.result.figure_paths) {
        const path = join(PACKAGE_ROOT, p);
        expect(existsSync(path), p).toBe(true);
        expect(readFileSync(path, 'utf8').startsWith('<svg'), p).toBe(true);
      }
    }
    const md = readFileSync(join(reports, 'REPORT.md'), 'utf8');
    for (const c of report.claims) expect(md).toContain(`**${c.id}**`);
    expect(md).not.toContain('(expected:');
  });
});
