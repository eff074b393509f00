// The shape of an executable claim check. A check is one module in spec/ that reads
// like the paper: statement → assumptions → what is computed → verdict → what would
// have refuted it. The machinery it uses lives in src/proofs/.

/** What was measured decides the verdict; a claim that does not hold is a finding, not an error. */
export type Verdict =
  | 'holds'
  | 'holds under stated assumptions'
  | 'does not hold'
  | 'inconclusive'
  | 'depends on the measure'
  | 'seed-dependent';

export const VERDICTS: readonly Verdict[] = [
  'holds',
  'holds under stated assumptions',
  'does not hold',
  'inconclusive',
  'depends on the measure',
  'seed-dependent',
];

/** The verdict words, as defined at the top of spec/REPORT.md. The rules are symmetric: a claim is refuted only by evidence against it. */
export const VERDICT_DEFINITIONS: Record<Verdict, string> = {
  holds: 'the pre-declared primary measure favours the claim beyond its 95% interval (Holm-corrected where several tests combine), at every seed run',
  'holds under stated assumptions': 'as "holds", but only inside the listed assumptions (e.g. a random last layer, a synthetic task); outside them the check says nothing',
  'does not hold': 'the evidence goes against the claim: an interval on the wrong side of 0, a counterexample, or a derivation step that is false — at every seed run',
  inconclusive: 'the intervals include "no difference": neither the claim nor its negation is supported by this data',
  'depends on the measure': 'two pre-declared measures of the same quantity disagree (each resolved, with opposite signs): the claim is not well posed without naming the measure',
  'seed-dependent': 'the verdict differs between the seeds run (listed with each verdict in --json): the data do not decide it robustly',
};

/**
 * What kind of evidence a verdict is (issue: a verdict of an identity must not read like a measurement).
 *   identity    — the kit's own computation against itself or a proof checked on premise-satisfying inputs: can fail only through a bug
 *   conformance — the kit's implementation against an independent computation of the paper's definition
 *   simulation  — toy networks, random matrices or synthetic data stand in for the paper's setting
 *   real-model  — measured on a trained language model (stories260K by default; any model with `tda spec --model`)
 */
export type Kind = 'identity' | 'conformance' | 'simulation' | 'real-model';
export const KINDS: readonly Kind[] = ['identity', 'conformance', 'simulation', 'real-model'];
export const KIND_DEFINITIONS: Record<Kind, string> = {
  identity: 'the kit’s own computation against itself, or a proven statement checked on inputs that satisfy its premise — it can fail only through a bug',
  conformance: 'the kit’s implementation against an independent computation of the paper’s definition',
  simulation: 'toy networks, random matrices or synthetic data stand in for the paper’s setting',
  'real-model': 'measured on a trained language model (stories260K by default; another with `tda spec --model`)',
};

/** Sample size behind a stochastic verdict: n and what is counted (prompts, Monte-Carlo draws, trained nets, …). */
export interface Sample {
  n: number;
  unit: string;
}

/** Where a claim is stated. The two papers number their equations differently; cite both. */
export interface ClaimSource {
  paper: 'TDA' | 'MOYU';
  /** e.g. "§3.1, App. B" */
  section: string;
  /** e.g. "Eq 1–6"; empty when the claim has no equation. */
  equations?: string;
}

/** One measured figure: a number (optionally with its 95% interval), a count or a short string. */
export interface Figure {
  name: string;
  value: number | string | boolean;
  ci?: [number, number];
  unit?: string;
}

/** A sub-step of a claim with its own verdict (e.g. a derivation step the claim relies on). */
export interface ClaimPart {
  /** Short id, unique within the claim ("a", "b", …); recorded as "<claim id>/<part id>". */
  id: string;
  statement: string;
  verdict: Verdict;
  reason: string;
  figures: Figure[];
  /** The step's kind when it differs from its claim's (e.g. an identity step inside a simulation). */
  kind?: Kind;
  /** Sample size of the step's test (required for simulation and real-model steps). */
  sample?: Sample;
}

export interface ClaimResult {
  verdict: Verdict;
  /** Sample size of the claim's primary test (required for simulation and real-model claims). */
  sample?: Sample;
  /** One paragraph: why this verdict, from the measured figures. */
  reason: string;
  figures: Figure[];
  parts?: ClaimPart[];
  /** Figure files written into ctx.figuresDir (absolute or relative to the working directory). */
  figurePaths?: string[];
  /** Counterexamples found (e.g. fast-check's shrunk ones), as printable values. */
  counterexamples?: { property: string; value: string }[];
}

export interface ClaimContext {
  seed: number;
  /** Bigger sweeps (more samples, seeds, training steps) — off in the test suite. */
  heavy: boolean;
  /** Progress report: a message and, when known, the fraction done in [0, 1]. */
  progress: (message: string, fraction?: number) => void;
  /** Folder the check writes its figures into (default `reports/spec/`, gitignored; `docs/spec/` with --update-report). */
  figuresDir: string;
}

export interface ClaimCheck {
  /** Stable id, used by `tda spec --only` and spec/expected-verdicts.json. */
  id: string;
  kind: Kind;
  /** The result does not depend on the seed (fixed inputs, or an identity): run once, not at every seed. */
  seedFree?: boolean;
  /**
   * Measures wall-clock time: runs once, after the other seeds' processes have finished,
   * so that they do not compete with it for the cores (its verdict is a timing, not a draw).
   */
  timing?: boolean;
  /** Runs only on the default model (its inputs are written for it); skipped by `tda spec --model`. */
  defaultModelOnly?: boolean;
  title: string;
  source: ClaimSource[];
  /** The claim in our own words. */
  statement: string;
  assumptions: string[];
  /** What the check computes. */
  computes: string;
  /** The result that would have refuted the claim: no check may be a tautology. */
  refutedBy: string;
  run(ctx: ClaimContext): Promise<ClaimResult> | ClaimResult;
}

/** "MOYU §3 Eq 1–6 / TDA §3.1 Eq 1–5" */
export function formatSource(src: ClaimSource[]): string {
  return src.map((s) => `${s.paper} ${s.section}${s.equations ? ` ${s.equations}` : ''}`).join(' / ');
}

/** A flat map "id" → verdict and "id/part" → verdict, the form kept in spec/expected-verdicts.json. */
export function verdictMap(results: { id: string; result: Pick<ClaimResult, 'verdict' | 'parts'> }[]): Record<string, Verdict> {
  const out: Record<string, Verdict> = {};
  for (const { id, result } of results) {
    out[id] = result.verdict;
    for (const p of result.parts ?? []) out[`${id}/${p.id}`] = p.verdict;
  }
  return out;
}

/** Holm's step-down adjustment of p-values (family-wise error ≤ α when every adjusted p ≤ α is rejected). */
export function holm(pValues: number[]): number[] {
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (pValues.length - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/** The verdict over several seeds: the common verdict, or 'seed-dependent' when they differ. */
export function acrossSeeds(verdicts: Verdict[]): Verdict {
  return verdicts.every((v) => v === verdicts[0]) ? verdicts[0] : 'seed-dependent';
}

/**
 * Symmetric rule for two measures of one quantity, each judged on its own:
 * both for → holds, both against → does not hold, resolved in opposite directions → depends on the measure,
 * otherwise the resolved one decides only if the other is unresolved and does not contradict it: inconclusive.
 */
export function twoMeasures(a: Verdict, b: Verdict): Verdict {
  if (a === b) return a;
  const forClaim = (v: Verdict) => v.startsWith('holds');
  if ((forClaim(a) && b === 'does not hold') || (forClaim(b) && a === 'does not hold')) return 'depends on the measure';
  return 'inconclusive';
}

/** Verdict for a CI-based positivity test: above 0 → true, below → false, straddling → null. */
export function signOfInterval(ci: [number, number]): boolean | null {
  if (ci[0] > 0) return true;
  if (ci[1] < 0) return false;
  return null;
}
