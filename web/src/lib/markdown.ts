// Markdown for model answers: marked for the syntax, highlight.js for code,
// KaTeX for math, and DOMPurify over the result, because everything here is
// model output and the model repeats whatever a prompt or a document asks it to.
//
// Defences, in order: raw HTML in the source is shown as text, never parsed;
// links keep only http(s) and mailto URLs and open in a new tab without
// referrer; images become links (no remote fetch, no tracking pixel); then
// DOMPurify removes any script, event handler or dangerous URL that got
// through. KaTeX's inline styles would be refused by the CSP (style-src
// 'self'; even parsing them in DOMPurify's inert document reports a
// violation), so renderMath() renames them to data-kstyle, the sanitizer
// keeps them only inside KaTeX output and filtered, and applyMathStyles()
// sets them through the CSSOM, which the CSP allows.
import { Marked, type Tokens, type TokenizerAndRendererExtension } from 'marked';
import DOMPurify, { type DOMPurify as Purifier } from 'dompurify';
import type { HLJSApi } from 'highlight.js';

type Katex = typeof import('katex').default;

let katex: Katex | null = null;
let hljs: HLJSApi | null = null;
let katexLoad: Promise<void> | null = null;
let hljsLoad: Promise<void> | null = null;

export function loadMath(): Promise<void> {
  katexLoad ??= import('./katex').then((m) => {
    katex = m.default;
  });
  return katexLoad;
}

export function loadHighlighter(): Promise<void> {
  hljsLoad ??= import('./hljs').then((m) => {
    hljs = m.default;
  });
  return hljsLoad;
}

export const mathLoaded = (): boolean => katex !== null;
export const highlighterLoaded = (): boolean => hljs !== null;

/** Whether the text may hold math, so the caller loads KaTeX first. */
export function hasMath(src: string): boolean {
  return /\$\$[\s\S]+?\$\$|\\\[[\s\S]+?\\\]|\\\([\s\S]+?\\\)|\$[^\s$][^$\n]*\$/.test(src);
}

/** Whether the text has a fenced code block, so the caller loads highlight.js first. */
export function hasCode(src: string): boolean {
  return /(^|\n) {0,3}(```|~~~)/.test(src);
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The URL if it is absolute http(s) or mailto, normalized; null otherwise. */
export function safeUrl(href: string | null | undefined): string | null {
  if (!href) return null;
  // Browsers drop these characters when parsing a URL, which hides schemes ("java\tscript:").
  if (/[\u0000-\u001f\u007f\s]/.test(href.trim())) return null;
  let url: URL;
  try {
    url = new URL(href.trim());
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:' ? url.href : null;
}

function renderMath(tex: string, display: boolean): string {
  if (!katex) {
    // Shown until KaTeX arrives (the caller re-renders then), or if it fails to load.
    const delim = display ? '$$' : '$';
    return `<code class="math-source">${escapeHtml(delim + tex + delim)}</code>`;
  }
  const html = katex.renderToString(tex, {
    displayMode: display,
    throwOnError: false,
    output: 'htmlAndMathml',
    // No \href, \url, \includegraphics, \htmlClass...: model output is untrusted.
    trust: false,
    strict: 'ignore',
    maxSize: 20,
    maxExpand: 500,
  });
  // KaTeX escapes attribute values, so a style value never holds a raw quote.
  const styled = html.replace(/ style="([^"]*)"/g, ' data-kstyle="$1"');
  return display ? `<div class="math-display">${styled}</div>` : styled;
}

const blockMath: TokenizerAndRendererExtension = {
  name: 'blockMath',
  level: 'block',
  start(src) {
    const m = src.match(/\$\$|\\\[/);
    return m?.index;
  },
  tokenizer(src) {
    const m = /^ {0,3}\$\$([\s\S]+?)\$\$[^\S\n]*(?:\n|$)/.exec(src) ?? /^ {0,3}\\\[([\s\S]+?)\\\][^\S\n]*(?:\n|$)/.exec(src);
    if (!m) return undefined;
    return { type: 'blockMath', raw: m[0], text: m[1].trim() };
  },
  renderer(token) {
    return renderMath(token.text as string, true);
  },
};

const inlineMath: TokenizerAndRendererExtension = {
  name: 'inlineMath',
  level: 'inline',
  start(src) {
    const m = src.match(/\$|\\\(/);
    return m?.index;
  },
  tokenizer(src) {
    let m = /^\$\$((?:\\.|[^\\$])+?)\$\$/.exec(src);
    if (m) return { type: 'inlineMath', raw: m[0], text: m[1].trim(), display: true };
    m = /^\\\(([\s\S]+?)\\\)/.exec(src);
    if (m) return { type: 'inlineMath', raw: m[0], text: m[1].trim(), display: false };
    // $...$ with no space inside the delimiters and no digit after the closing
    // one, so that "between $5 and $10" stays text.
    m = /^\$((?:\\.|[^\\$\n])+?)\$(?!\d)/.exec(src);
    if (m && !/^\s|\s$/.test(m[1])) return { type: 'inlineMath', raw: m[0], text: m[1], display: false };
    return undefined;
  },
  renderer(token) {
    return renderMath(token.text as string, Boolean(token.display));
  },
};

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  extensions: [blockMath, inlineMath],
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      const text = escapeHtml(token.text);
      return 'block' in token && token.block ? `<p>${text}</p>` : text;
    },
    code({ text, lang }: Tokens.Code): string {
      const language = (lang ?? '').match(/^\S*/)?.[0].toLowerCase() ?? '';
      let body = escapeHtml(text);
      if (hljs && language && hljs.getLanguage(language)) {
        body = hljs.highlight(text, { language, ignoreIllegals: true }).value;
      }
      const cls = language ? ` language-${escapeHtml(language.replace(/[^\w+#-]/g, ''))}` : '';
      return `<pre><code class="hljs${cls}">${body}</code></pre>\n`;
    },
    link({ href, title, tokens }: Tokens.Link): string {
      const text = this.parser.parseInline(tokens);
      const url = safeUrl(href);
      if (!url) return text;
      const t = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(url)}"${t}>${text}</a>`;
    },
    image({ href, text }: Tokens.Image): string {
      const url = safeUrl(href);
      const alt = escapeHtml(text || href);
      return url ? `<a href="${escapeHtml(url)}">${alt}</a>` : alt;
    },
  },
});

// KaTeX sets only these properties, with lengths, keywords and colors.
const mathStyleProps = new Set([
  'height', 'width', 'min-width', 'max-width', 'vertical-align', 'top', 'bottom', 'left', 'right',
  'margin', 'margin-left', 'margin-right', 'margin-top', 'margin-bottom', 'padding-left', 'padding-right',
  'border-top-width', 'border-bottom-width', 'border-left-width', 'border-right-width', 'border-style',
  'border-color', 'position', 'color', 'background-color',
]);

function filterMathStyle(style: string): string {
  const out: string[] = [];
  for (const decl of style.split(';')) {
    const colon = decl.indexOf(':');
    if (colon < 0) continue;
    const prop = decl.slice(0, colon).trim().toLowerCase();
    const value = decl.slice(colon + 1).trim();
    if (!mathStyleProps.has(prop)) continue;
    if (!/^[\w.#%+\-, ()]+$/.test(value) || /url|expression|var|attr|image/i.test(value)) continue;
    // Never fixed or sticky: math must not cover the rest of the page.
    if (prop === 'position' && value !== 'relative' && value !== 'absolute') continue;
    out.push(`${prop}:${value}`);
  }
  return out.join(';');
}

let purifier: Purifier | null = null;

function getPurifier(): Purifier {
  if (purifier) return purifier;
  const p = DOMPurify(window);
  p.addHook('beforeSanitizeAttributes', (node) => {
    if (node.nodeType !== 1) return;
    const el = node as Element;
    el.removeAttribute('style');
    const style = el.getAttribute('data-kstyle');
    if (style === null) return;
    el.removeAttribute('data-kstyle');
    const kept = el.closest('.katex') ? filterMathStyle(style) : '';
    if (kept) el.setAttribute('data-kstyle', kept);
  });
  p.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeType !== 1 || (node as Element).tagName !== 'A') return;
    const url = safeUrl(node.getAttribute('href'));
    if (url) {
      node.setAttribute('href', url);
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    } else {
      node.removeAttribute('href');
    }
  });
  purifier = p;
  return p;
}

/** DOMPurify with this app's policy: no forms, media, styles or frames; links as safeUrl allows. */
export function sanitize(html: string): string {
  return getPurifier().sanitize(html, {
    USE_PROFILES: { html: true, svg: true, mathMl: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option', 'img', 'image',
      'video', 'audio', 'source', 'iframe', 'object', 'embed', 'link', 'meta', 'base', 'use', 'foreignObject',
      'animate', 'set', 'animateMotion', 'animateTransform'],
    FORBID_ATTR: ['style', 'srcset', 'action', 'formaction', 'xlink:href', 'ping'],
    ALLOW_DATA_ATTR: false,
    ADD_ATTR: ['data-kstyle', 'target', 'encoding'],
    // DOMPurify checks unknown attributes' values as URLs; "height:1em" would look like one.
    ADD_URI_SAFE_ATTR: ['data-kstyle'],
    // KaTeX's MathML keeps the TeX source for screen readers and copy-paste.
    ADD_TAGS: ['semantics', 'annotation'],
  });
}

/** Markdown to safe HTML. Math and code are plain until loadMath()/loadHighlighter() resolve. */
export function renderMarkdown(src: string): string {
  return sanitize(marked.parse(src) as string);
}

/** Applies the filtered KaTeX styles that sanitize() kept as data-kstyle. */
export function applyMathStyles(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement | SVGElement>('[data-kstyle]')) {
    for (const decl of filterMathStyle(el.getAttribute('data-kstyle') ?? '').split(';')) {
      const colon = decl.indexOf(':');
      if (colon > 0) el.style.setProperty(decl.slice(0, colon), decl.slice(colon + 1));
    }
    el.removeAttribute('data-kstyle');
  }
}
