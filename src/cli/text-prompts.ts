// Prompts from a text file (`compare --text FILE`): paragraphs separated by blank
// lines when the file has any blank line, else one prompt per line. Empty prompts
// are dropped; a file without any prompt is an input error.

import fs from 'node:fs';
import { UserError, describeError } from '../errors.js';

export function promptsFromText(text: string): string[] {
  const normalized = text.replace(/\r\n?/g, '\n');
  const byParagraph = /\n[ \t]*\n/.test(normalized.trim());
  const parts = byParagraph ? normalized.split(/\n[ \t]*\n/) : normalized.split('\n');
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

export function readPromptsFile(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read prompts from ${file}: ${describeError(e)}`);
  }
  const prompts = promptsFromText(text);
  if (prompts.length === 0) throw new UserError(`${file}: holds no prompt (one per line, or paragraphs separated by blank lines)`);
  return prompts;
}
