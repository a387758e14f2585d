/**
 * Child program of the benchmark: builds a squashfs from a flattened tar with the native writer
 * alone (no download, no flattening) and prints `{"seconds":…,"cpuSeconds":…,"bytes":…}`: wall
 * time, CPU time of the whole process (the thread pool's compression included: on a shared machine
 * it varies far less with the load than the wall time) and the image's size.
 *
 * Usage: node dist/bench/writer-alone.js <flat.tar> <compression> <out.sqfs>
 */
import { createReadStream, closeSync, openSync } from "node:fs";
import { writeTarStream } from "../src/image/squashfs/from-tar.js";
import { SquashfsWriter } from "../src/image/squashfs/writer.js";

const [input, compression, out] = process.argv.slice(2);
if (!input || !compression || !out) {
  console.error("usage: writer-alone <flat.tar> <compression> <out.sqfs>");
  process.exit(2);
}
const started = performance.now();
const fd = openSync(out, "w+");
const writer = new SquashfsWriter({ fd, compression });
await writeTarStream(createReadStream(input, { highWaterMark: 1 << 20 }), writer);
const image = await writer.finish();
closeSync(fd);
const cpu = process.cpuUsage();
console.log(
  JSON.stringify({
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    bytes: image.size,
  }),
);
