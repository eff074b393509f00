// A minimal XML well-formedness checker, enough to validate the SVG writer's output in
// tests: balanced and properly nested tags, quoted attributes, only the five predefined
// entities (or numeric ones), no stray '<' or '&' in text.

export interface XmlCheck {
  ok: boolean;
  error?: string;
  /** Number of elements by tag name. */
  counts: Map<string, number>;
  /** Number of elements carrying class="…" by class value. */
  classCounts: Map<string, number>;
}

const NAME = /^[A-Za-z_][\w.:-]*$/;

export function checkXml(src: string): XmlCheck {
  const counts = new Map<string, number>();
  const classCounts = new Map<string, number>();
  const stack: string[] = [];
  let i = 0;
  let roots = 0;
  const fail = (error: string): XmlCheck => ({ ok: false, error, counts, classCounts });
  const checkText = (t: string): string | null => {
    const amp = t.match(/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/);
    if (amp) return `bad entity near '${t.slice(amp.index!, amp.index! + 10)}'`;
    return null;
  };
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = lt < 0 ? src.slice(i) : src.slice(i, lt);
    const e = checkText(text);
    if (e) return fail(e);
    if (stack.length === 0 && text.trim() !== '') return fail('text outside the root element');
    if (lt < 0) break;
    if (src.startsWith('<?', lt)) {
      const end = src.indexOf('?>', lt);
      if (end < 0) return fail('unterminated processing instruction');
      i = end + 2;
      continue;
    }
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt);
      if (end < 0) return fail('unterminated comment');
      i = end + 3;
      continue;
    }
    const gt = src.indexOf('>', lt);
    if (gt < 0) return fail('unterminated tag');
    const tag = src.slice(lt + 1, gt);
    if (tag.includes('<')) return fail(`'<' inside tag '${tag.slice(0, 30)}'`);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) return fail(`closing </${name}> does not match <${open ?? '(none)'}>`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const m = body.match(/^([^\s]+)([\s\S]*)$/);
      if (!m || !NAME.test(m[1])) return fail(`bad tag name in '<${tag.slice(0, 30)}>'`);
      const name = m[1];
      let rest = m[2];
      const seen = new Set<string>();
      const attr = /^\s+([A-Za-z_][\w.:-]*)\s*=\s*("[^"<]*"|'[^'<]*')/;
      for (;;) {
        const a = rest.match(attr);
        if (!a) break;
        if (seen.has(a[1])) return fail(`duplicate attribute ${a[1]} on <${name}>`);
        seen.add(a[1]);
        const ev = checkText(a[2]);
        if (ev) return fail(ev);
        if (a[1] === 'class') {
          const v = a[2].slice(1, -1);
          classCounts.set(v, (classCounts.get(v) ?? 0) + 1);
        }
        rest = rest.slice(a[0].length);
      }
      if (rest.trim() !== '') return fail(`malformed attributes on <${name}>: '${rest.trim().slice(0, 30)}'`);
      if (stack.length === 0) roots++;
      if (roots > 1) return fail('more than one root element');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!selfClosing) stack.push(name);
    }
    i = gt + 1;
  }
  if (stack.length) return fail(`unclosed <${stack[stack.length - 1]}>`);
  if (roots !== 1) return fail('no root element');
  return { ok: true, counts, classCounts };
}
