// Overlapping markers, told apart: pure geometry for the map (map.js runs it in the page after every zoom,
// move or marker change while grouping is off). Markers closer than `size` pixels on screen form a pile;
// a pile is spread on a small ring around its centre, so that every camera stays visible and clickable,
// the worst state drawn on top and a thin leg to where the camera really is.

export const MAX_SPREAD = 16; // a bigger pile means the map is zoomed out too far to tell markers apart: group them

// points: [{ id, x, y }] on screen (pixels); returns Map id -> { dx, dy } for markers in a pile of two to
// MAX_SPREAD (where to draw each relative to its true point), nothing for the others.
export function spreadPiles(points, size) {
  const piles = pilesOf(points, size);
  const moves = new Map();
  for (const pile of piles) {
    if (pile.length < 2 || pile.length > MAX_SPREAD) continue;
    const cx = pile.reduce((sum, p) => sum + p.x, 0) / pile.length;
    const cy = pile.reduce((sum, p) => sum + p.y, 0) / pile.length;
    // a ring whose neighbours are one marker apart; never smaller than a marker
    const radius = Math.max(size, (size * 1.1 * pile.length) / (2 * Math.PI));
    const ordered = [...pile].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)); // stable places
    ordered.forEach((p, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / pile.length;
      moves.set(p.id, { dx: cx + radius * Math.cos(angle) - p.x, dy: cy + radius * Math.sin(angle) - p.y });
    });
  }
  return moves;
}

// Piles: markers linked by being closer than `size` to one another (any chain of them), found through a
// grid of `size`-wide cells so that thousands of markers cost one pass.
function pilesOf(points, size) {
  const cells = new Map();
  const key = (cx, cy) => `${cx},${cy}`;
  points.forEach((p, i) => {
    const k = key(Math.floor(p.x / size), Math.floor(p.y / size));
    if (!cells.has(k)) cells.set(k, []);
    cells.get(k).push(i);
  });
  const parent = points.map((_, i) => i);
  const root = (i) => { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; };
  points.forEach((p, i) => {
    const gx = Math.floor(p.x / size);
    const gy = Math.floor(p.y / size);
    for (let ox = -1; ox <= 1; ox++) {
      for (let oy = -1; oy <= 1; oy++) {
        for (const j of cells.get(key(gx + ox, gy + oy)) || []) {
          if (j <= i) continue;
          const q = points[j];
          if (Math.abs(p.x - q.x) < size && Math.abs(p.y - q.y) < size) parent[root(j)] = root(i);
        }
      }
    }
  });
  const piles = new Map();
  points.forEach((p, i) => {
    const r = root(i);
    if (!piles.has(r)) piles.set(r, []);
    piles.get(r).push(p);
  });
  return [...piles.values()];
}
