import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeMd, kColour, renderHtml, renderMarkdown } from '../../../src/domain/report/index.js';
import { dagKeyCount, loop, model, node } from './helpers.js';

const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)> | **b** \`c\` [l](http://evil.example) & ' "`;

function hostileModel() {
  const nodes = [node('r', 0), node('a', 1, { premises: ['r'], compounded: 0.3 }), node('b', 2, { premises: ['a'], compounded: 0.2 })];
  return model(nodes, {}, {
    descriptions: new Map([['a', HOSTILE], ['b', HOSTILE]]),
    reproductionTotals: { runs: 1, failed: 1, experiments: 1, durationS: 60 },
    recentReproductions: [{ experiment: 'a', seed: 1, value: null, ok: false, runner: '<b>rogue</b>', durationS: 60, error: '</td><script>x</script>', createdAt: '2025-03-08T12:00:00.000Z' }],
    gateDecisions: {
      total: 1,
      items: [{ id: 1, experiment: 'b', decision: 'reject', compounded: 0.2, threshold: 0.6, caller: '<i>me</i>', reason: '<script>y</script>', createdAt: '2025-03-08T12:00:00.000Z' }],
    },
  });
}

describe('escaping', () => {
  it('escapes HTML special characters for text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('never lets user text become markup in the HTML page', () => {
    const html = renderHtml(hostileModel());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<b>rogue/);
    expect(html).not.toMatch(/<i>me/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    // In the SVG tooltip too.
    expect(html).toMatch(/<title>[^<]*&lt;script&gt;alert/);
  });

  it('keeps keys from breaking out of attributes', () => {
    const m = model([node('r', 0), node('"><svg onload=alert(1)>', 1, { premises: ['r'] })]);
    const html = renderHtml(m);
    expect(html).not.toContain('<svg onload');
    expect(html).toContain('data-key="&quot;&gt;&lt;svg onload=alert(1)&gt;"');
  });

  it('escapes Markdown: no raw HTML, no table breaks, no formatting from user text', () => {
    const md = renderMarkdown(hostileModel());
    expect(md).not.toMatch(/<script|<img|<b>|<i>/i);
    const row = md.split('\n').find((l) => l.startsWith('| 1 |'))!;
    expect(row).toContain('&lt;script&gt;');
    // The cell's pipe is escaped, so the row keeps its 8 columns (9 unescaped separators; issue 21
    // added the "gated by" column).
    expect(row.match(/(?<!\\)\|/g)).toHaveLength(9);
    expect(escapeMd('a|b*c_d`e[f]\nx')).toBe('a\\|b\\*c\\_d\\`e\\[f\\] x');
  });
});

describe('HTML page', () => {
  it('is self-contained: no scripts, external URLs, fonts or stylesheets', () => {
    const html = renderHtml(model(loop(200)));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link rel="stylesheet"|@import|@font-face|url\(http/i);
    const urls = html.match(/(?:src|href)="([^"]*)"/g) ?? [];
    expect(urls.every((u) => /"data:|"#/.test(u))).toBe(true);
    expect(html).toContain('<svg id="dag"');
    expect(html).toContain('<svg id="chain-plot"');
  });

  it('draws one data-key element per drawn experiment', () => {
    const m = model(loop(500, 7));
    expect(dagKeyCount(renderHtml(m))).toBe(m.dag.drawn);
    expect(m.dag.drawn).toBe(500);
  });

  it('stays bounded for a 10,000-experiment project and says what was elided', () => {
    const m = model(loop(10_000, 20), { maxNodes: 1500 });
    const html = renderHtml(m);
    expect(dagKeyCount(html)).toBe(m.dag.drawn);
    expect(m.dag.drawn).toBeLessThanOrEqual(1500);
    expect(html.length).toBeLessThan(3_000_000);
    expect(html).toMatch(/Drawn: 1,500 of 10,000 experiments/);
    expect(html).toMatch(/Elided: 8,500/);
  });

  it('marks anchors with a ring and gated keeps with a cross', () => {
    const m = model([node('r', 0, { anchored: true }), node('g', 1, { premises: ['r'], compounded: 0.1 })]);
    const html = renderHtml(m);
    // Within the node's own <g>…</g>.
    expect(html).toMatch(/data-key="r"[^>]*data-anchor="1"[^>]*>(?:(?!<\/g>)[\s\S])*class="ring"/);
    expect(html).toMatch(/data-key="g"[^>]*data-gated="1"[^>]*>(?:(?!<\/g>)[\s\S])*class="x"/);
  });
});

describe('K colours', () => {
  it('runs red → amber (at the threshold) → green, grey when unknown', () => {
    expect(kColour(0, 0.6)).toBe('#d73027');
    expect(kColour(0.6, 0.6)).toBe('#f5a623');
    expect(kColour(1, 0.6)).toBe('#1a9850');
    expect(kColour(null, 0.6)).toBe('#c4c8ce');
  });
});

describe('Markdown', () => {
  it('fits a PR comment even for a large, badly gated project', () => {
    const nodes = loop(10_000, 3);
    const m = model(nodes, {}, {
      gateDecisions: {
        total: 500,
        items: Array.from({ length: 50 }, (_, i) => ({ id: 500 - i, experiment: `k${i}`, decision: 'reject', compounded: 0.1, threshold: 0.6, caller: 'loop', reason: null, createdAt: '2025-03-08T12:00:00.000Z' })),
      },
    });
    const md = renderMarkdown(m);
    expect(md.split('\n').length).toBeLessThanOrEqual(60);
    expect(md).toMatch(/more gated steps/);
    expect(md).toContain('### Contamination');
    expect(md).toContain('(500 in all)');
  });

  it('summarises key figures and the gated chain', () => {
    const md = renderMarkdown(model([node('r', 0), node('a', 1, { premises: ['r'], compounded: 0.4 })]));
    expect(md).toContain('| 2 | 2 | 0 | 0 | 0 | 1 | 0 | 0 | 0.0 |');
    expect(md).toContain('| 1 | `a` |');
    expect(md).toMatch(/head `a`.*❌ gated/);
  });
});
