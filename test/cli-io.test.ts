// The output helpers behind the CLI contract: atomic writes, output paths checked
// up front, snake_case JSON keys, errno codes turned into words.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError, describeError } from '../src/errors.js';
import { checkWritable, snakeCase, snakeKeys, writeFileAtomic } from '../src/cli/io.js';
import { tmpFile } from './helpers.js';

describe('writeFileAtomic', () => {
  it('replaces the file whole and leaves no temporary file', () => {
    const f = tmpFile('out.json', 'old');
    writeFileAtomic(f, 'new contents');
    expect(fs.readFileSync(f, 'utf8')).toBe('new contents');
    expect(fs.readdirSync(path.dirname(f))).toEqual(['out.json']);
  });

  it('a failed write keeps the old file and says why in words', () => {
    const f = tmpFile('keep.json', 'old');
    const dirAsTarget = path.join(path.dirname(f), 'sub');
    fs.mkdirSync(dirAsTarget);
    expect(() => writeFileAtomic(dirAsTarget, 'x')).toThrow(UserError);
    expect(() => writeFileAtomic(dirAsTarget, 'x')).toThrow(/cannot write .*sub: /);
    expect(fs.readFileSync(f, 'utf8')).toBe('old');
    expect(fs.readdirSync(path.dirname(f)).sort()).toEqual(['keep.json', 'sub']);
  });
});

describe('checkWritable', () => {
  it('refuses a missing folder, a path through a file, and a folder', () => {
    const f = tmpFile('a.txt', 'x');
    expect(() => checkWritable('/nonexistent-folder/x.json')).toThrow(/the folder \/nonexistent-folder does not exist/);
    expect(() => checkWritable(path.join(f, 'x.json'))).toThrow(/is not a folder/);
    expect(() => checkWritable(path.dirname(f))).toThrow(/it is a folder/);
    expect(() => checkWritable(path.join(path.dirname(f), 'new.json'))).not.toThrow();
  });
});

describe('snake_case JSON', () => {
  it('converts field names, not values', () => {
    expect(snakeCase('decodeTokensPerSecond')).toBe('decode_tokens_per_second');
    expect(snakeCase('top1Agreement')).toBe('top1_agreement');
    expect(snakeCase('already_snake')).toBe('already_snake');
    expect(snakeKeys({ prefillMs: 1, rows: [{ meanKl: 0.5, text: 'camelCase stays' }], ids: Int32Array.of(3, 4) })).toEqual({
      prefill_ms: 1,
      rows: [{ mean_kl: 0.5, text: 'camelCase stays' }],
      ids: [3, 4],
    });
  });
});

describe('describeError', () => {
  it('turns errno codes into words', () => {
    const e = Object.assign(new Error('EISDIR: illegal operation on a directory, read'), { code: 'EISDIR' });
    expect(describeError(e)).toBe('it is a folder, not a file');
    expect(describeError(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('permission denied');
    expect(describeError(new Error('first line\nsecond'))).toBe('first line');
  });
});
