import { beforeAll, describe, expect, it } from 'vitest';
import { applyMathStyles, hasCode, hasMath, loadHighlighter, loadMath, renderMarkdown, safeUrl, sanitize } from './markdown';

// Payloads from the usual XSS cheat sheets: raw HTML, markdown links and
// images, SVG and MathML tricks, entity and whitespace obfuscation.
const payloads = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">X</text></a></svg>',
  '<svg><animate onbegin=alert(1) attributeName=x dur=1s>',
  '<svg><use href="data:image/svg+xml,<svg id=x xmlns=http://www.w3.org/2000/svg><image href=1 onerror=alert(1) /></svg>#x"/></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
  '<math href="javascript:alert(1)">X</math>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<a href="javascript:alert(1)">x</a>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<body onload=alert(1)>',
  '<details open ontoggle=alert(1)>',
  '<form action="javascript:alert(1)"><button>x</button></form>',
  '<object data="javascript:alert(1)"></object>',
  '<embed src="javascript:alert(1)">',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](java\tscript:alert(1))',
  '[click](&#106;avascript:alert(1))',
  '[click](vbscript:msgbox(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[click](  javascript:alert(1))',
  '[click](<javascript:alert(1)>)',
  '![x](javascript:alert(1))',
  '![x](https://tracker.example/p.gif)',
  '[x](https://ok.example/ "t\\" onmouseover=\\"alert(1)")',
  '<javascript:alert(1)>',
  '`<script>alert(1)</script>`',
  '```html\n<script>alert(1)</script>\n```',
  '```"><img src=x onerror=alert(1)>\ncode\n```',
  '$\\href{javascript:alert(1)}{x}$',
  '$$\\url{javascript:alert(1)}$$',
  '$\\htmlClass{x}{y}$ $\\htmlStyle{color:red}{y}$',
  '$\\includegraphics{https://tracker.example/x.png}$',
  '$x" onmouseover="alert(1)$',
  '$\\text{<img src=x onerror=alert(1)>}$',
  '$$\\color{red}{x} \\colorbox{url(javascript:alert(1))}{y}$$',
  '<a href="https://ok.example" onclick="alert(1)">ok</a>',
  '<<script>script>alert(1)<</script>/script>',
  '<scr<script>ipt>alert(1)</script>',
];

function dom(html: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = html;
  return div;
}

function assertInert(html: string, label: string) {
  const root = dom(html);
  expect(root.querySelector('script, iframe, object, embed, form, img, style, meta, base, link, use, animate, set, foreignObject'), label).toBeNull();
  for (const el of root.querySelectorAll('*')) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.toLowerCase().startsWith('on'), `${label}: ${attr.name}`).toBe(false);
      expect(attr.name.toLowerCase(), label).not.toBe('style');
      expect(attr.value, `${label}: ${attr.name}`).not.toMatch(/^\s*(javascript|vbscript|data):/i);
      if (/^(href|src|xlink:href|action|formaction|data)$/i.test(attr.name)) {
        expect(attr.value, `${label}: ${attr.name}`).toMatch(/^(https?:|mailto:)/i);
      }
    }
  }
  expect(html, label).not.toMatch(/<script/i);
}

describe('markdown sanitizing', () => {
  beforeAll(async () => {
    await Promise.all([loadMath(), loadHighlighter()]);
  });

  it.each(payloads)('renders %s inert', (payload) => {
    assertInert(renderMarkdown(payload), payload);
    assertInert(renderMarkdown(`Some text ${payload} more text`), payload);
    assertInert(renderMarkdown(`- item\n\n  > ${payload}`), payload);
  });

  it.each(payloads)('sanitize() alone neutralizes %s', (payload) => {
    assertInert(sanitize(payload), payload);
  });

  it('shows raw HTML as text', () => {
    const root = dom(renderMarkdown('<b>bold</b> <script>alert(1)</script>'));
    expect(root.querySelector('b')).toBeNull();
    expect(root.textContent).toContain('<script>alert(1)</script>');
  });

  it('keeps safe links, opening them in a new tab without referrer', () => {
    const a = dom(renderMarkdown('[autan](https://example.org/a?b=1) and <https://example.org/x>')).querySelectorAll('a');
    expect(a).toHaveLength(2);
    for (const link of a) {
      expect(link.getAttribute('href')).toMatch(/^https:\/\/example\.org\//);
      expect(link.getAttribute('target')).toBe('_blank');
      expect(link.getAttribute('rel')).toBe('noopener noreferrer');
    }
    expect(dom(renderMarkdown('[mail](mailto:a@example.org)')).querySelector('a')?.getAttribute('href')).toBe('mailto:a@example.org');
  });

  it('turns a dangerous link into its text', () => {
    const root = dom(renderMarkdown('[click me](javascript:alert(1))'));
    expect(root.querySelector('a')).toBeNull();
    expect(root.textContent).toContain('click me');
  });

  it('renders images as links, never <img>', () => {
    const root = dom(renderMarkdown('![chart](https://example.org/c.png)'));
    expect(root.querySelector('img')).toBeNull();
    expect(root.querySelector('a')?.textContent).toBe('chart');
  });

  it('highlights code of a known language and escapes the rest', () => {
    const root = dom(renderMarkdown('```python\ndef f(x):\n    return "<b>"\n```\n\n```nolang\n<i>x</i>\n```'));
    const codes = root.querySelectorAll('pre code');
    expect(codes).toHaveLength(2);
    expect(codes[0].className).toContain('language-python');
    expect(codes[0].querySelector('.hljs-keyword')?.textContent).toBe('def');
    expect(codes[0].textContent).toContain('return "<b>"');
    expect(codes[1].querySelector('i')).toBeNull();
    expect(codes[1].textContent?.trim()).toBe('<i>x</i>');
  });

  it('renders inline and display math with KaTeX', () => {
    const root = dom(renderMarkdown('Euler: $e^{i\\pi}+1=0$.\n\n$$\\int_0^1 x\\,dx = \\frac{1}{2}$$\n\nand \\(a^2\\) too'));
    expect(root.querySelectorAll('.katex').length).toBe(3);
    expect(root.querySelector('.math-display .katex-display')).not.toBeNull();
    expect(root.querySelector('math')).not.toBeNull();
  });

  it('leaves prices alone', () => {
    const root = dom(renderMarkdown('It costs $5 and $10.'));
    expect(root.querySelector('.katex')).toBeNull();
    expect(root.textContent?.trim()).toBe('It costs $5 and $10.');
  });

  it('does not render math inside code', () => {
    const root = dom(renderMarkdown('`$x$` and\n\n```\n$$y$$\n```'));
    expect(root.querySelector('.katex')).toBeNull();
  });

  it('moves KaTeX styles to data-kstyle and applies them through the CSSOM', () => {
    const html = renderMarkdown('$$\\frac{a}{b} \\color{red}{c}$$');
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).toContain('<annotation encoding="application/x-tex">');
    expect(html).toContain('data-kstyle');
    const root = dom(html);
    applyMathStyles(root);
    expect(root.querySelector('[data-kstyle]')).toBeNull();
    const styled = Array.from(root.querySelectorAll<HTMLElement>('.katex *')).filter((e) => (e.style?.length ?? 0) > 0);
    expect(styled.length).toBeGreaterThan(0);
    expect(styled.some((e) => e.style.color === 'red')).toBe(true);
  });

  it('drops style attributes, data-kstyle outside KaTeX and unsafe declarations', () => {
    expect(sanitize('<span style="color:red" data-kstyle="color:red">x</span>')).toBe('<span>x</span>');
    const kept = sanitize('<span class="katex"><span data-kstyle="position:fixed;top:0;background:url(https://x.example/a);content:\'x\';height:1em">x</span></span>');
    expect(kept).toContain('data-kstyle="top:0;height:1em"');
  });

  it('detects math and code', () => {
    expect(hasMath('a $x$ b')).toBe(true);
    expect(hasMath('$$\nx\n$$')).toBe(true);
    expect(hasMath('\\(x\\)')).toBe(true);
    expect(hasMath('costs $ 5')).toBe(false);
    expect(hasCode('x\n```js\n1\n```')).toBe(true);
    expect(hasCode('inline `code`')).toBe(false);
  });

  it('accepts only absolute http(s) and mailto URLs', () => {
    expect(safeUrl('https://a.example/x y')).toBeNull();
    expect(safeUrl('https://a.example/x')).toBe('https://a.example/x');
    expect(safeUrl('/relative')).toBeNull();
    expect(safeUrl('javascript:alert(1)')).toBeNull();
    expect(safeUrl('data:text/html,x')).toBeNull();
    expect(safeUrl('ftp://a.example/')).toBeNull();
  });
});
