// The shape of an executable claim check. A check is one module in spec/ that reads
// like the paper: statement → assumptions → what is computed → verdict → what would
// have refuted it. The machinery it uses lives in src/proofs/.

/** What was measured decides the verdict; a claim that does not hold is a finding, not an error. */
export type Verdict = 'holds' | 'holds under stated assumptions' | 'does not hold' | 'inconclusive';

export const VERDICTS: readonly Verdict[] = ['holds', 'holds under stated assumptions', 'does not hold', 'inconclusive'];

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
}

export interface ClaimResult {
  verdict: Verdict;
  /** One paragraph: why this verdict, from the measured figures. */
  reason: string;
  figures: Figure[];
  parts?: ClaimPart[];
  /** Files written under ctx.reportsDir (absolute or relative to the working directory). */
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
  /** Folder for figures (default `reports/`, gitignored). */
  reportsDir: string;
}

export interface ClaimCheck {
  /** Stable id, used by `tda spec --only` and spec/expected-verdicts.json. */
  id: string;
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
export function verdictMap(results: { id: string; result: ClaimResult }[]): Record<string, Verdict> {
  const out: Record<string, Verdict> = {};
  for (const { id, result } of results) {
    out[id] = result.verdict;
    for (const p of result.parts ?? []) out[`${id}/${p.id}`] = p.verdict;
  }
  return out;
}

/** Verdict for a CI-based positivity test: above 0 → true, below → false, straddling → null. */
export function signOfInterval(ci: [number, number]): boolean | null {
  if (ci[0] > 0) return true;
  if (ci[1] < 0) return false;
  return null;
}
