// Reads a JSON object {name: wkt} from the file named on the command line and
// prints {name: "ok" | "error: ..."}: whether proj4js can initialise a
// projection from each WKT, as copc.js and copc-validator do.
import proj4 from "proj4";
import { readFileSync } from "fs";

const items = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = {};
for (const [name, wkt] of Object.entries(items)) {
  try {
    proj4(wkt);
    out[name] = "ok";
  } catch (e) {
    out[name] = "error: " + String((e && e.message) || e);
  }
}
console.log(JSON.stringify(out));
