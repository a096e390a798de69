// Reads COPC files the whole way a web viewer does, with the npm `copc` package
// (copc.js): Copc.create, Copc.loadHierarchyPage from the root page and every
// sub-page it points to, Copc.loadPointDataView on every node, and every
// dimension of every point through the view's getter.
//
// Takes a JSON file holding a list of paths (argv[2]); prints one JSON object
// {path: report}, where report is
//   {headerPoints, points, nodes, pages, dimensions: {name: [min, max]}, error}
// `points` counts the points read through the getters, `error` is the first
// thing copc.js threw for that file (null when none), and the others what was
// read before it.  Files are read one after another in this one process.
//
// copc.js 0.0.8 reads an extra-bytes descriptor's scale and offset big-endian
// (las/extra-bytes.js: getFloat64(112) with no little-endian flag), so the
// ranges of scaled extra dimensions are not the file's; the tests compare only
// X, Y and Z with the header.
import { Copc } from "copc";
import { readFileSync } from "fs";

async function walkHierarchy(path, rootPage, report) {
  const nodes = [];
  const pending = [rootPage];
  const seen = new Set();
  while (pending.length) {
    const page = pending.shift();
    if (seen.has(page.pageOffset)) throw new Error(`hierarchy page at ${page.pageOffset} reached twice`);
    seen.add(page.pageOffset);
    const subtree = await Copc.loadHierarchyPage(path, page);
    report.pages += 1;
    for (const [key, node] of Object.entries(subtree.nodes)) nodes.push([key, node]);
    pending.push(...Object.values(subtree.pages));
  }
  return nodes;
}

function readView(view, key, report) {
  for (const name of Object.keys(view.dimensions)) {
    const get = view.getter(name);
    const range = report.dimensions[name] || [Infinity, -Infinity];
    for (let i = 0; i < view.pointCount; ++i) {
      const v = get(i);
      if (typeof v !== "number") throw new Error(`node ${key}: ${name} of point ${i} is a ${typeof v}`);
      if (v < range[0]) range[0] = v;
      if (v > range[1]) range[1] = v;
    }
    report.dimensions[name] = range;
  }
  report.points += view.pointCount;
}

async function readFile(path) {
  const report = { headerPoints: null, points: 0, nodes: 0, pages: 0, dimensions: {}, error: null };
  try {
    const copc = await Copc.create(path);
    report.headerPoints = copc.header.pointCount;
    const nodes = await walkHierarchy(path, copc.info.rootHierarchyPage, report);
    for (const [key, node] of nodes) {
      const view = await Copc.loadPointDataView(path, copc, node);
      readView(view, key, report);
      report.nodes += 1;
    }
  } catch (e) {
    report.error = String((e && e.message) || e);
  }
  return report;
}

const paths = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = {};
for (const path of paths) out[path] = await readFile(path);
console.log(JSON.stringify(out));
