/**
 * The README's first command: a local NGC-like registry on 127.0.0.1 (the real distribution
 * registry behind an nvcr.io-style token front), a sample image pushed with skopeo, then the
 * original's session replayed with our CLI: record, images, inspect, get, pull, images, get.
 * Everything lives in a temp directory that is removed at the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../test/harness/cli.js";
import { pushImage, sampleImage } from "../test/harness/fixtures.js";
import { startRegistry } from "../test/harness/registry-server.js";

const base = mkdtempSync(join(tmpdir(), "sregistry-demo-"));
const registry = await startRegistry({ auth: "token" });
let failed = false;
try {
  console.log(`# local NGC-like registry at ${registry.host} (token auth, $oauthtoken + API key)`);
  await pushImage(registry, "nvidia/caffe2:17.10", sampleImage());
  await pushImage(registry, "nvidia/tensorflow:17.11", sampleImage());
  console.log("# pushed nvidia/caffe2:17.10 and nvidia/tensorflow:17.11 with skopeo\n");

  const env: Record<string, string> = {
    HOME: base,
    SREGISTRY_CLIENT: "nvidia",
    SREGISTRY_NVIDIA_BASE: registry.host,
    SREGISTRY_NVIDIA_NOHTTPS: "true",
    SREGISTRY_NVIDIA_TOKEN: registry.password ?? "",
    SREGISTRY_CLIENT_SECRETS: join(base, ".sregistry"),
    SREGISTRY_DATABASE: join(base, ".singularity"),
    SREGISTRY_STORAGE: join(base, ".singularity", "shub"),
    SINGULARITY_CACHEDIR: join(base, ".singularity"),
  };
  const session: string[][] = [
    ["record", "caffe2:17.10"],
    ["record", "caffe2:17.10"],
    ["images"],
    ["inspect", "nvidia/caffe2:17.10"],
    ["get", "nvidia/caffe2:17.10"],
    ["pull", "tensorflow:17.11"],
    ["pull", "tensorflow:17.11"],
    ["images"],
    ["get", "nvidia/tensorflow:17.11"],
  ];
  for (const args of session) {
    console.log(`$ SREGISTRY_CLIENT=nvidia sregistry ${args.join(" ")}`);
    const result = await runCli(args, { env, cwd: base });
    process.stdout.write(truncate(result.stdout));
    process.stdout.write(result.stderr);
    console.log(`(exit ${result.code})\n`);
    if (result.code !== 0) failed = true;
  }
} finally {
  await registry.stop();
  rmSync(base, { recursive: true, force: true });
}
if (failed) {
  console.error("demo failed: a command exited non-zero");
  process.exit(1);
}
console.log("demo finished: every command succeeded");

/** Long inspect output is cut in the middle, as the original's docs show it. */
function truncate(text: string): string {
  const lines = text.split("\n");
  if (lines.length <= 40) return text;
  return [...lines.slice(0, 25), "    ...", ...lines.slice(-12)].join("\n");
}
