// A self-contained SVG chart of a run: one panel per filesystem and Node, one group of bars per
// scenario, bar length = median time relative to plain Node (the dashed line), so scenarios of
// very different lengths share one scale. Broken and not-run variants are labelled, not drawn.

const palette = ['#6b7280', '#2563eb', '#1d4ed8', '#7c3aed', '#059669', '#10b981', '#d97706', '#dc2626', '#db2777', '#0891b2'];

function escape(text) {
  return String(text).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);
}

export function svgChart(doc) {
  const width = 960;
  const labelWidth = 230;
  const barArea = width - labelWidth - 150;
  const barHeight = 13;
  const variantIds = [...new Set([...doc.results, ...doc.many].map((r) => r.variant))];
  const colour = (id) => palette[variantIds.indexOf(id) % palette.length];
  const parts = [];
  let y = 30;
  parts.push(`<text x="10" y="20" font-size="15" font-weight="bold">coldstart benchmark: median start-up time relative to plain Node (shorter is faster)</text>`);
  y += 6;
  const legendItems = variantIds.map((id) => [...doc.results, ...doc.many].find((r) => r.variant === id).variantTitle);
  legendItems.forEach((title, i) => {
    const x = 10 + (i % 5) * 185;
    const rowY = y + Math.floor(i / 5) * 16;
    parts.push(`<rect x="${x}" y="${rowY}" width="10" height="10" fill="${colour(variantIds[i])}"/><text x="${x + 14}" y="${rowY + 9}" font-size="11">${escape(title)}</text>`);
  });
  y += Math.ceil(legendItems.length / 5) * 16 + 10;
  const panel = (title, sections) => {
    const all = sections.flatMap((section) => section.rows);
    const maxRatio = Math.min(3, Math.max(1.25, ...all.filter((r) => r.status === 'ok').map((r) => r.ratio ?? 1)));
    const scale = barArea / maxRatio;
    const top = y;
    parts.push(`<text x="10" y="${y + 14}" font-size="13" font-weight="bold">${escape(title)}</text>`);
    y += 24;
    for (const section of sections) {
      parts.push(`<text x="10" y="${y + 10}" font-size="11" font-weight="bold">${escape(section.title)}</text>`);
      for (const r of section.rows) {
        parts.push(`<text x="${labelWidth - 6}" y="${y + 10}" font-size="10" text-anchor="end">${escape(r.variantTitle)}</text>`);
        if (r.status === 'ok' && r.ratio !== null) {
          const length = Math.max(1, Math.min(r.ratio, maxRatio) * scale);
          parts.push(`<rect x="${labelWidth}" y="${y + 1}" width="${length.toFixed(1)}" height="${barHeight - 2}" fill="${colour(r.variant)}"/>`);
          const ops = r.mountOps && !r.mountOps.error ? ` · ${r.mountOps.ops} ops on the mount` : '';
          parts.push(`<text x="${labelWidth + length + 4}" y="${y + 10}" font-size="10">${Math.round(r.median)} ms (${r.ratio.toFixed(2)}x)${ops}</text>`);
        } else {
          const text = r.status === 'ok' ? `${Math.round(r.median)} ms` : r.status === 'broken' ? 'broken: output differs' : 'not run';
          parts.push(`<text x="${labelWidth + 4}" y="${y + 10}" font-size="10" fill="${r.status === 'broken' ? '#dc2626' : '#6b7280'}">${escape(text)}</text>`);
        }
        y += barHeight;
      }
      y += 6;
    }
    const x1 = labelWidth + scale;
    parts.push(`<line x1="${x1}" y1="${top + 20}" x2="${x1}" y2="${y}" stroke="#111" stroke-dasharray="4 3"/>`);
    y += 14;
  };
  const sectionsOf = (records, key, title) => [...new Set(records.map(key))].map((k) => {
    const rows = records.filter((r) => key(r) === k);
    return { title: title(rows[0]), rows };
  });
  for (const group of [...new Set(doc.results.map((r) => `${r.fs}|${r.node}`))]) {
    const records = doc.results.filter((r) => `${r.fs}|${r.node}` === group);
    const where = records[0].fs === 'fuse' ? 'FUSE, kernel caches off' : 'local disk';
    panel(`${where}, Node ${records[0].nodeVersion}`, sectionsOf(records, (r) => r.scenario, (r) => r.scenarioTitle));
  }
  for (const node of [...new Set(doc.many.map((r) => r.node))]) {
    const records = doc.many.filter((r) => r.node === node);
    panel(`Many processes at once on FUSE, Node ${records[0].nodeVersion}: time until the last exits`,
      sectionsOf(records, (r) => `${r.launcher}|${r.n}`, (r) => `${r.n} x ${r.scenarioTitle} (${r.launcher})`));
  }
  parts.push(`<text x="10" y="${y + 4}" font-size="10" fill="#6b7280">${escape(`${doc.date} · ${doc.machine.cpu}, ${doc.machine.cores} cores · ${doc.nodes.map((n) => n.version).join(', ')}`)}</text>`);
  y += 14;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n`
    + `<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}
