/**
 * Child process for builder.process.test.ts: builds a squashfs from a small tar with whatever
 * `tar2sqfs` is first on PATH (the test's stand-in that keeps working after its input ended), and
 * waits; the test SIGKILLs this process and watches the tool.
 *
 * @example
 * ```sh
 * PATH=/tmp/fake:$PATH node --import tsx src/image/squashfs/orphan-child.fixture.testing.ts /tmp/x/out.sqfs
 * ```
 */
import { Readable } from "node:stream";
import { tarLayer } from "../flatten/flatten.testing.js";
import { buildSquashfs } from "./builder.js";

const [output = ""] = process.argv.slice(2);
const tar = await tarLayer([{ name: "hello.txt", body: "hello\n" }]);
await buildSquashfs(Readable.from([tar]), { path: output }, { tool: "tar2sqfs" });
