// `--html FILE`: one self-contained page (no network) with, per process, an icicle chart of the
// import tree (width = inclusive time; click to zoom, click the top bar to zoom out) and a
// table of every module that sorts by any column. The data is embedded as JSON.
import { labelOf } from './analyze.js';
import type { Profile } from './report.js';

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function renderHtml(profile: Profile, meta: { command: string[]; exitCode: number; wallMs: number; cwd: string }): string {
  const data = {
    command: meta.command.join(' '),
    exitCode: meta.exitCode,
    wallMs: meta.wallMs,
    processes: profile.views.map((view) => ({
      pid: view.profile.pid,
      argv: view.profile.argv.slice(1).join(' '),
      node: view.profile.nodeVersion,
      wallMs: view.profile.wallMs,
      loadingMs: view.loadingMs,
      modules: view.profile.modules
        .filter((m) => m.format !== 'builtin')
        .map((m) => ({
          id: m.id,
          parent: m.parent,
          label: labelOf(m.key, meta.cwd),
          path: m.key,
          format: m.format,
          self: m.selfMs,
          incl: view.nodes.get(m.id)?.inclusiveMs ?? m.selfMs,
          resolve: m.resolveMs,
          read: m.readMs,
          eval: m.evalMs,
          size: m.size,
          from: m.fromPack === true ? 'pack' : 'disk',
        })),
      builtins: view.builtinCount,
    })),
    candidates: profile.candidates.map((c) => ({ package: c.package, savingMs: c.savingMs, where: `${c.importer}${c.line === null ? '' : `:${c.line}`}`, replacement: c.replacement })),
  };
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028|\u2029/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coldstart profile: ${escapeHtml(data.command)}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:16px;margin:0 0 4px}h2{font-size:14px;margin:18px 0 6px}
.muted{color:#666}
#icicle{position:relative;width:100%;border:1px solid #ccc;overflow:hidden;background:#fafafa}
.bar{position:absolute;height:20px;box-sizing:border-box;border:1px solid #fff;overflow:hidden;white-space:nowrap;font-size:11px;padding:2px 3px;cursor:pointer}
.bar:hover{filter:brightness(1.1)}
.f-module{background:#8ab4d8}.f-commonjs{background:#f0b86e}.f-json{background:#a8c97f}.f-addon,.f-wasm,.f-other{background:#c9a0dc}
table{border-collapse:collapse;width:100%;margin-top:6px}th,td{padding:2px 6px;border-bottom:1px solid #eee;text-align:left}
th{cursor:pointer;background:#f3f3f3;user-select:none}td.n,th.n{text-align:right}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
code{background:#f3f3f3;padding:1px 3px}
</style></head><body>
<h1>coldstart profile</h1>
<div class="muted" id="meta"></div>
<label>process: <select id="proc"></select></label>
<h2>Import tree (width = inclusive time; click a bar to zoom)</h2>
<div id="icicle"></div>
<h2>Defer candidates</h2><div id="cands"></div>
<h2>Modules</h2>
<table id="table"><thead><tr>
<th data-k="label">module</th><th data-k="format">format</th><th class="n" data-k="incl">incl ms</th><th class="n" data-k="self">self ms</th>
<th class="n" data-k="resolve">resolve ms</th><th class="n" data-k="read">read ms</th><th class="n" data-k="eval">eval ms</th><th class="n" data-k="size">size</th><th data-k="from">source</th>
</tr></thead><tbody></tbody></table>
<script id="data" type="application/json">${json}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  var sel = document.getElementById('proc');
  var esc = function (s) { return String(s).replace(/[&<>"]/g, function (c) { return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]; }); };
  document.getElementById('meta').textContent = data.command + ' \\u2014 exit ' + data.exitCode + ', ' + data.wallMs.toFixed(0) + ' ms wall, ' + data.processes.length + ' process(es)';
  data.processes.forEach(function (p, i) {
    var o = document.createElement('option'); o.value = i;
    var packed = p.modules.filter(function (m) { return m.from === 'pack'; }).length;
    o.textContent = p.pid + ' ' + p.argv + ' (' + p.modules.length + ' modules' + (packed > 0 ? ', ' + packed + ' from the pack' : '') + ', ' + p.loadingMs.toFixed(1) + ' ms loading)';
    sel.appendChild(o);
  });
  var cands = document.getElementById('cands');
  cands.innerHTML = data.candidates.length === 0 ? '<p class="muted">none</p>' : '<ol>' + data.candidates.map(function (c) {
    return '<li><b>' + esc(c.package) + '</b> saves ~' + c.savingMs.toFixed(1) + ' ms \\u2014 ' + esc(c.where) + '<br><code>' + esc(c.replacement) + '</code></li>';
  }).join('') + '</ol>';
  var state = { proc: 0, root: null, sortKey: 'incl', dir: -1 };
  function tree(p) {
    var byId = {}, roots = [];
    p.modules.forEach(function (m) { byId[m.id] = { m: m, kids: [] }; });
    p.modules.forEach(function (m) { var parent = m.parent === null ? null : byId[m.parent]; if (parent && parent !== byId[m.id]) parent.kids.push(byId[m.id]); else roots.push(byId[m.id]); });
    return { byId: byId, roots: roots };
  }
  function drawIcicle() {
    var p = data.processes[state.proc], t = tree(p), box = document.getElementById('icicle');
    box.innerHTML = '';
    var top = state.root === null ? { m: { label: 'process ' + p.pid, format: 'other' }, kids: t.roots } : t.byId[state.root];
    var total = state.root === null ? t.roots.reduce(function (s, n) { return s + n.m.incl; }, 0) : top.m.incl;
    var width = box.clientWidth || 1000, depthMax = 0;
    function bar(node, x, w, depth, label, ms) {
      var d = document.createElement('div');
      d.className = 'bar f-' + node.m.format;
      d.style.left = x + 'px'; d.style.top = depth * 20 + 'px'; d.style.width = Math.max(w, 1) + 'px';
      d.textContent = w > 40 ? label + ' ' + ms.toFixed(1) + ' ms' : '';
      d.title = label + '\\ninclusive ' + ms.toFixed(2) + ' ms, self ' + (node.m.self || 0).toFixed(2) + ' ms\\n' + (node.m.path || '');
      box.appendChild(d);
      depthMax = Math.max(depthMax, depth);
      return d;
    }
    var head = bar(top, 0, width, 0, top.m.label, total);
    head.onclick = function () { state.root = null; drawIcicle(); };
    function lay(kids, x, depth, scale) {
      kids.slice().sort(function (a, b) { return b.m.incl - a.m.incl; }).forEach(function (k) {
        var w = k.m.incl * scale;
        if (w >= 0.5) {
          bar(k, x, w, depth, k.m.label, k.m.incl).onclick = function () { state.root = k.m.id; drawIcicle(); };
          if (depth < 40) lay(k.kids, x, depth + 1, scale);
        }
        x += w;
      });
    }
    lay(top.kids, 0, 1, total > 0 ? width / total : 0);
    box.style.height = (depthMax + 1) * 20 + 'px';
  }
  function drawTable() {
    var p = data.processes[state.proc], k = state.sortKey, dir = state.dir;
    var rows = p.modules.slice().sort(function (a, b) {
      var x = a[k], y = b[k];
      if (x === null) x = -1; if (y === null) y = -1;
      return (typeof x === 'string' ? x.localeCompare(y) : x - y) * dir;
    });
    document.querySelector('#table tbody').innerHTML = rows.map(function (m) {
      return '<tr><td title="' + esc(m.path) + '">' + esc(m.label) + '</td><td>' + m.format + '</td><td class="n">' + m.incl.toFixed(2) +
        '</td><td class="n">' + m.self.toFixed(2) + '</td><td class="n">' + m.resolve.toFixed(2) + '</td><td class="n">' + m.read.toFixed(2) +
        '</td><td class="n">' + m.eval.toFixed(2) + '</td><td class="n">' + (m.size === null ? '' : m.size) + '</td><td>' + m.from + '</td></tr>';
    }).join('');
    document.querySelectorAll('#table th').forEach(function (th) {
      if (th.dataset.k === k) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); else th.removeAttribute('aria-sort');
    });
  }
  document.querySelectorAll('#table th').forEach(function (th) {
    th.onclick = function () {
      var k = th.dataset.k;
      state.dir = state.sortKey === k ? -state.dir : (k === 'label' || k === 'format' || k === 'from' ? 1 : -1);
      state.sortKey = k; drawTable();
    };
  });
  sel.onchange = function () { state.proc = Number(sel.value); state.root = null; drawIcicle(); drawTable(); };
  var busiest = 0;
  data.processes.forEach(function (p, i) { if (p.loadingMs > data.processes[busiest].loadingMs) busiest = i; });
  sel.value = busiest; state.proc = busiest;
  window.addEventListener('resize', drawIcicle);
  drawIcicle(); drawTable();
})();
</script></body></html>
`;
}
