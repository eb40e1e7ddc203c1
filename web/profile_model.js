/* The profile model: the endpoints' ?format=json output (docs/profile-json.md)
 * parsed into interned stacks, merged into a call tree (optionally against a
 * baseline, for the diff), aggregated per function, and searched.
 * Pure: no DOM, so tests/ui/model.test.mjs runs it in Node on the fixtures. */

/* The JSON profile model -> {sampleTypes, defaultIndex, names, stacks}, where
 * each stack lists frames root first as indices into names (the JSON is leaf
 * first, and each location's inlined lines are callee first). Interning the
 * names once makes merging 10,000+ stacks cheap. */
export function parseProfile(json) {
  if (!json || !Array.isArray(json.samples) || !Array.isArray(json.sample_types))
    throw new Error('not a JSON profile (no samples or sample_types)');
  const fns = json.functions || [];
  const maps = json.mappings || [];
  const locs = json.locations || [];
  const names = [];
  const ids = new Map();
  const intern = (s) => {
    let id = ids.get(s);
    if (id === undefined) { id = names.length; names.push(s); ids.set(s, id); }
    return id;
  };
  const locFrames = locs.map((loc) => {
    const lines = loc.lines || [];
    if (!lines.length) {
      const m = maps[loc.mapping];
      const file = m && m.file ? m.file.split('/').pop() + ' ' : '';
      return [intern(file + (loc.address || '?'))];
    }
    const out = [];
    for (let i = lines.length - 1; i >= 0; i--) {
      const f = fns[lines[i].function];
      out.push(intern(f && f.name ? f.name : loc.address || '?'));
    }
    return out;
  });
  const unknown = [intern('?')];
  const stacks = json.samples.map((s) => {
    const frames = [];
    const ls = s.locations || [];
    for (let i = ls.length - 1; i >= 0; i--) for (const id of locFrames[ls[i]] || unknown) frames.push(id);
    return { frames, values: s.values || [], labels: s.labels || {} };
  });
  const types = json.sample_types.map((t) => ({ type: t.type || '?', unit: t.unit || 'count' }));
  let def = Number.isInteger(json.default_sample_type) ? json.default_sample_type : types.length - 1;
  if (def < 0 || def >= types.length) def = types.length - 1;
  return {
    name: json.name || 'profile', sampleTypes: types, defaultIndex: def, names, stacks,
    durationNanos: json.duration_nanos || 0, timeNanos: json.time_nanos || 0,
    comments: json.comments || [], period: json.period || 0, periodType: json.period_type || null,
    precision: Array.isArray(json.precision) ? json.precision : null,
    warnings: json.warnings || [],
  };
}

/* Wall and off-CPU profiles label each sample idle=true when the thread
 * waited for work (an event loop in epoll_wait, a sleep): the page can hide
 * them as go tool pprof -tagignore idle=true does. */
export function hasIdle(profile) { return profile.stacks.some((s) => String(s.labels.idle) === 'true'); }

export function withoutIdle(profile) {
  const stacks = profile.stacks.filter((s) => String(s.labels.idle) !== 'true');
  return { ...profile, stacks, hiddenIdle: profile.stacks.length - stacks.length };
}

/* Names of a stack's frames, root first. */
export function stackNames(profile, s) { return s.frames.map((id) => profile.names[id]); }

/* Merge stacks into one call tree. With a baseline, each node also carries the
 * baseline's value ("base") so the diff view colours growth and shrinkage.
 * span = max(total, base, sum of children's spans): widths stay nested, and
 * frames that vanished since the baseline still show (blue).
 * A 10,000-stack profile makes ~200,000 nodes and most have a few children,
 * so children are found by a short scan of interned name ids, with a Map
 * only for nodes that fan out widely. */
export function buildTree(profile, index, baseline, baseIndex) {
  const nameIds = new Map();
  const nameList = [];
  const root = newNode('all', null, 0, -1);
  const nodes = [root];
  const add = (p, vi, isBase) => {
    const local = p.names.map((n) => {
      let id = nameIds.get(n);
      if (id === undefined) { id = nameList.length; nameList.push(n); nameIds.set(n, id); }
      return id;
    });
    for (const s of p.stacks) {
      const v = Number(s.values[vi]) || 0;
      if (!v) continue;
      let n = root;
      if (isBase) n.base += v; else n.total += v;
      for (const f of s.frames) {
        const nid = local[f];
        let c;
        if (n.index) c = n.index.get(nid);
        else for (const k of n.children) if (k.nid === nid) { c = k; break; }
        if (c === undefined) {
          c = newNode(nameList[nid], n, n.depth + 1, nid);
          nodes.push(c);
          n.children.push(c);
          if (n.index) n.index.set(nid, c);
          else if (n.children.length > 8) n.index = new Map(n.children.map((k) => [k.nid, k]));
        }
        if (isBase) c.base += v; else c.total += v;
        n = c;
      }
      if (isBase) n.baseSelf += v; else n.self += v;
    }
  };
  add(profile, index, false);
  if (baseline) add(baseline, baseIndex, true);
  const tree = { root, maxDepth: 0, nodes: nodes.length, diff: !!baseline, maxAbsDelta: 0 };
  /* Children were created after their parents: a reverse pass sums spans bottom up. */
  const cmp = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n.depth > tree.maxDepth) tree.maxDepth = n.depth;
    let sum = 0;
    for (const c of n.children) sum += c.span;
    if (n.children.length > 1) n.children.sort(cmp);
    n.span = Math.max(Math.abs(n.total), Math.abs(n.base), sum);
    n.index = null;
    const d = Math.abs(n.total - n.base);
    if (d > tree.maxAbsDelta) tree.maxAbsDelta = d;
  }
  return tree;
}

function newNode(name, parent, depth, nid) {
  return { nid, name, parent, depth, total: 0, self: 0, base: 0, baseSelf: 0, span: 0, children: [], index: null, match: false };
}

/* Per function: self and total, counting recursion once per stack. */
export function topFunctions(root) {
  const byName = new Map();
  const onPath = new Map();
  const walk = (n) => {
    let e = byName.get(n.name);
    if (!e) { e = { name: n.name, self: 0, total: 0, baseSelf: 0, base: 0 }; byName.set(n.name, e); }
    e.self += n.self; e.baseSelf += n.baseSelf;
    const seen = onPath.get(n.name) || 0;
    if (!seen) { e.total += n.total; e.base += n.base; }
    onPath.set(n.name, seen + 1);
    for (const c of n.children) walk(c);
    onPath.set(n.name, seen);
  };
  for (const c of root.children) walk(c);
  return Array.from(byName.values());
}

/* The baseline's sample type to compare with the profile's type i: the same
 * type and unit, else the one at the same position (or the last). */
export function baselineIndex(profile, i, baseline) {
  const t = profile.sampleTypes[i];
  const bi = baseline.sampleTypes.findIndex((b) => b.type === t.type && b.unit === t.unit);
  return bi >= 0 ? bi : Math.min(i, baseline.sampleTypes.length - 1);
}

/* Mark the nodes whose name matches re (null clears every mark). The share
 * counts each matching subtree once, so a recursive match is not doubled. */
export function markMatches(tree, re) {
  let share = 0, baseShare = 0, count = 0;
  const memo = new Map(); /* one regex test per distinct name, not per node */
  const test = (name) => {
    let m = memo.get(name);
    if (m === undefined) { m = re.test(name); memo.set(name, m); }
    return m;
  };
  const walk = (n, under) => {
    n.match = !!re && test(n.name);
    if (n.match) count++;
    if (n.match && !under) { share += n.total; baseShare += n.base; }
    for (const c of n.children) walk(c, under || n.match);
  };
  for (const c of tree.root.children) walk(c, false);
  return { share, baseShare, count };
}

/* The search text that matches exactly one function name. */
export function exactNameSearch(name) {
  return '^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';
}

/* Label keys of a profile's samples with their values, most common key
 * first (for the split/filter controls). */
export function labelKeys(profile) {
  const keys = new Map();
  for (const s of profile.stacks) {
    for (const k in s.labels || {}) {
      if (!keys.has(k)) keys.set(k, new Map());
      const v = String(s.labels[k]), m = keys.get(k);
      m.set(v, (m.get(v) || 0) + 1);
    }
  }
  return [...keys].map(([key, vals]) => ({ key, values: [...vals.keys()].sort(), n: [...vals.values()].reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.n - a.n || a.key.localeCompare(b.key));
}

/* The profile split and/or filtered by one label, as pprof's -tagroot and
 * -tagfocus: with split, every stack gets a root frame "key=value" (or
 * "key unset"); with only (a value), stacks without that value are dropped.
 * Returns a new profile sharing the frames. */
export function byLabel(profile, key, { split = false, only = null } = {}) {
  if (!key) return profile;
  const names = profile.names.slice();
  const ids = new Map();
  const rootOf = (v) => {
    const n = v === undefined ? key + ' unset' : key + '=' + v;
    if (!ids.has(n)) { ids.set(n, names.length); names.push(n); }
    return ids.get(n);
  };
  const stacks = [];
  for (const s of profile.stacks) {
    const v = s.labels ? s.labels[key] : undefined;
    if (only !== null && String(v) !== only) continue;
    stacks.push(split ? { ...s, frames: [rootOf(v), ...s.frames] } : s);
  }
  return { ...profile, names, stacks };
}
