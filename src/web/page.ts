// The conformance page: picks a backend, runs the harness in a worker
// (harness-worker.ts), shows rows as each group of checks finishes, then the
// verdict and the JSON report for download.
//
// ?backend=NAME&quick=1&autorun=1 runs one backend unattended; the verdict
// (CONFORMANT / NOT CONFORMANT, or UNAVAILABLE / ERROR when nothing was judged)
// lands in #verdict.

import type { ReportRow } from '../conformance/index.js';
import { PAGE_BACKENDS } from './backends.js';
import type { HarnessMessage, RunRequest } from './protocol.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const backendSelect = $<HTMLSelectElement>('backend');
const quickBox = $<HTMLInputElement>('quick');
const seedInput = $<HTMLInputElement>('seed');
const runButton = $<HTMLButtonElement>('run');
const progress = $('progress');
const verdict = $('verdict');
const info = $('info');
const tbody = document.querySelector('#report tbody') as HTMLTableSectionElement;
const download = $<HTMLAnchorElement>('download');

const fmt = (x: number) => (Number.isFinite(x) ? (x === 0 ? '0' : x.toExponential(2)) : String(x));

function addRows(rows: ReportRow[]): void {
  for (const r of rows) {
    const tr = tbody.insertRow();
    const cells: [string, string][] = [
      [r.check, ''],
      [String(r.cases), 'num'],
      [fmt(r.maxAbsErr), 'num'],
      [fmt(r.maxErrOverBound), 'num'],
      [r.tolerance, ''],
      [r.verdict.toUpperCase(), r.verdict],
    ];
    for (const [text, cls] of cells) {
      const td = tr.insertCell();
      td.textContent = text;
      if (cls) td.className = cls;
    }
    if (r.counterexample) tr.title = r.counterexample.message;
  }
}

function setVerdict(text: string, cls: 'pass' | 'fail' | 'other'): void {
  verdict.textContent = text;
  verdict.className = cls;
}

function run(req: RunRequest): void {
  runButton.disabled = true;
  tbody.replaceChildren();
  verdict.textContent = '';
  info.textContent = '';
  download.hidden = true;
  const t0 = performance.now();
  let status = '';
  const tick = setInterval(() => (progress.textContent = `${status} ${((performance.now() - t0) / 1000).toFixed(0)} s`), 500);
  const worker = new Worker('/harness-worker.js', { name: 'conformance harness' });
  const finish = () => {
    clearInterval(tick);
    worker.terminate();
    runButton.disabled = false;
  };
  worker.onmessage = (e: MessageEvent<HarnessMessage>) => {
    const m = e.data;
    switch (m.type) {
      case 'status':
        status = m.text;
        break;
      case 'rows':
        addRows(m.rows);
        status = `checking ${req.backend} … ${tbody.rows.length} check(s) done`;
        break;
      case 'report': {
        const r = m.report;
        const i = r.info;
        info.textContent = `${r.backend}: ${i.engine}, ${i.mode}, ${i.device}, ${i.precision}\n${i.notes ?? ''}`;
        const failing = r.rows.filter((x) => x.verdict === 'fail').length;
        setVerdict(r.conformant ? 'CONFORMANT' : 'NOT CONFORMANT', r.conformant ? 'pass' : 'fail');
        progress.textContent = `${r.rows.length} checks, ${failing} failing, seed ${r.seed}${r.quick ? ', quick' : ''}, ${((performance.now() - t0) / 1000).toFixed(1)} s`;
        download.href = URL.createObjectURL(new Blob([m.json], { type: 'application/json' }));
        download.download = `conformance-${r.backend}.json`;
        download.hidden = false;
        console.log(m.text);
        finish();
        break;
      }
      case 'unavailable':
        setVerdict('UNAVAILABLE', 'other');
        progress.textContent = `${req.backend}: ${m.reason}; nothing was checked`;
        finish();
        break;
      case 'error':
        setVerdict('ERROR', 'other');
        progress.textContent = m.message;
        finish();
        break;
    }
  };
  worker.onerror = (e) => {
    setVerdict('ERROR', 'other');
    progress.textContent = `the harness worker failed: ${e.message}`;
    finish();
  };
  worker.postMessage(req);
}

const params = new URLSearchParams(location.search);
for (const name of PAGE_BACKENDS) backendSelect.add(new Option(name, name));
const asked = params.get('backend') ?? 'reference';
if (!backendSelect.querySelector(`option[value="${CSS.escape(asked)}"]`)) backendSelect.add(new Option(asked, asked)); // the page will say it cannot run it
backendSelect.value = asked;
quickBox.checked = params.get('quick') !== '0';
seedInput.value = params.get('seed') ?? '1';
// `only=` (repeatable) as the CLI's --only: checks whose name contains one of them.
const only = params.getAll('only').filter((o) => o !== '');
const request = (): RunRequest => ({ backend: backendSelect.value, quick: quickBox.checked, seed: Number(seedInput.value) || 0, ...(only.length ? { only } : {}) });
$<HTMLFormElement>('controls').onsubmit = (e) => {
  e.preventDefault();
  run(request());
};
if (!crossOriginIsolated) progress.textContent = 'note: the page is not cross-origin isolated; the webgpu backend needs it (serve it with `tda serve`)';
if (params.get('autorun') === '1') run(request());
