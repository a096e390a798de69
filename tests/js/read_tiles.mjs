// Reads every COPC file named on the command line with the npm `copc` package
// (copc.js: its header, hierarchy pages and every node's points, decoded by
// laz-perf) and prints {path: {header: N, points: N, inside: true|false,
// error: "..."}}: the points the header announces, the points decoded, and
// whether every decoded X, Y, Z lies within the header's bounds.
import { Copc } from "copc";

async function read(path) {
  const copc = await Copc.create(path);
  const pages = [copc.info.rootHierarchyPage];
  const { header } = copc;
  let points = 0;
  let inside = true;
  while (pages.length) {
    const subtree = await Copc.loadHierarchyPage(path, pages.pop());
    pages.push(...Object.values(subtree.pages));
    for (const node of Object.values(subtree.nodes)) {
      if (!node || node.pointCount === 0) continue;
      const view = await Copc.loadPointDataView(path, copc, node, { include: ["X", "Y", "Z"] });
      const get = ["X", "Y", "Z"].map((d) => view.getter(d));
      for (let i = 0; i < view.pointCount; i++) {
        for (let a = 0; a < 3; a++) {
          const v = get[a](i);
          if (v < header.min[a] - header.scale[a] || v > header.max[a] + header.scale[a]) inside = false;
        }
      }
      points += view.pointCount;
    }
  }
  return { header: header.pointCount, points, inside };
}

const out = {};
for (const path of process.argv.slice(2)) {
  try {
    out[path] = await read(path);
  } catch (e) {
    out[path] = { error: String((e && e.message) || e) };
  }
}
console.log(JSON.stringify(out));
