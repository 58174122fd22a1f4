/** A compliance report as Markdown or HTML: the same object as the JSON, for people. */
import { visible } from '../cli/table';
import type { Cell, ComplianceReport } from './report';

const STATUS_MARK = { ok: 'OK', notice: 'NOTICE', violation: 'VIOLATION' } as const;

function cellText(c: Cell): string {
  if (c === null) return '';
  if (typeof c === 'boolean') return c ? 'yes' : 'no';
  return String(c);
}

/**
 * Text from the lake (service names, attribute keys, audit fields) as inline Markdown that shows as
 * written: line breaks and controls visible escapes, so it cannot end its table row or list item and start
 * a heading of its own, and the characters that make links, images, HTML, emphasis, headings or cells
 * backslash-escaped. A report is evidence: a producer must not be able to forge a line of it.
 */
function mdText(text: string): string {
  return visible(text.replace(/\r\n|\r|\n/g, ' ')).replace(/[\\`*_[\]<>!|~#&]/g, '\\$&');
}

function mdCell(c: Cell): string {
  return mdText(cellText(c));
}

/** `duckdb <data-dir>` or `stack <name> (<region>)`. */
function lakeText(r: ComplianceReport): string {
  return r.lake.engine === 'duckdb'
    ? `duckdb ${r.lake.dataDir}`
    : `stack ${r.lake.stack}${r.lake.region ? ` (${r.lake.region})` : ''}, read with the AWS SDK and Athena`;
}

export function reportMarkdown(r: ComplianceReport): string {
  const out: string[] = [
    '# loglake compliance report',
    '',
    `- status: **${r.status.toUpperCase()}** (${r.findings.length} finding(s) breaking the policy)`,
    `- period: ${r.period.since} to ${r.period.until}`,
    `- standards: ${r.standards.join(', ')}`,
    `- lake: ${lakeText(r)}`,
    `- generated: ${r.generatedAt} by ${r.generator} (schema ${r.schema})`,
    '',
  ];
  if (r.findings.length > 0) {
    out.push('## Findings', '');
    for (const f of r.findings) out.push(`- [${f.item}] ${mdText(f.message)}`);
    out.push('');
  }
  r.items.forEach((item, i) => {
    out.push(`## ${i + 1}. ${item.title} — ${STATUS_MARK[item.status]}`, '');
    out.push(`Source: ${item.source}`, '');
    if (item.controls.length > 0) out.push(`Controls: ${item.controls.join(', ')}`, '');
    for (const s of item.summary) out.push(`- ${mdText(s)}`);
    out.push('');
    if (item.rows.length > 0) {
      out.push(`| ${item.columns.join(' | ')} |`, `| ${item.columns.map(() => '---').join(' | ')} |`);
      for (const row of item.rows) out.push(`| ${row.map(mdCell).join(' | ')} |`);
      out.push('');
    }
  });
  return `${out.join('\n')}\n`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function reportHtml(r: ComplianceReport): string {
  const parts: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>loglake compliance report</title>',
    '<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;font-size:.9rem}.violation{color:#b00}.notice{color:#a60}.ok{color:#070}</style>',
    '</head><body>',
    '<h1>loglake compliance report</h1>',
    `<p>Status: <strong class="${r.status === 'pass' ? 'ok' : 'violation'}">${esc(r.status.toUpperCase())}</strong> (${r.findings.length} finding(s) breaking the policy)<br>`,
    `Period: ${esc(r.period.since)} to ${esc(r.period.until)}<br>Standards: ${esc(r.standards.join(', '))}<br>`,
    `Lake: ${esc(lakeText(r))}<br>Generated: ${esc(`${r.generatedAt} by ${r.generator} (schema ${r.schema})`)}</p>`,
  ];
  if (r.findings.length > 0) {
    parts.push('<h2>Findings</h2><ul>');
    for (const f of r.findings) parts.push(`<li>[${esc(f.item)}] ${esc(f.message)}</li>`);
    parts.push('</ul>');
  }
  r.items.forEach((item, i) => {
    parts.push(
      `<h2 id="${item.id}">${i + 1}. ${esc(item.title)} — <span class="${item.status}">${STATUS_MARK[item.status]}</span></h2>`,
      `<p>Source: ${esc(item.source)}${item.controls.length > 0 ? `<br>Controls: ${esc(item.controls.join(', '))}` : ''}</p>`,
      `<ul>${item.summary.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>`,
    );
    if (item.rows.length > 0) {
      parts.push(
        `<table><thead><tr>${item.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>`,
        ...item.rows.map((row) => `<tr>${row.map((c) => `<td>${esc(cellText(c))}</td>`).join('')}</tr>`),
        '</tbody></table>',
      );
    }
  });
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}
