/**
 * enroot's way of naming images and keeping credentials, against the real registry behind an
 * nvcr.io-like token front: `docker://REGISTRY#IMAGE` with the API key only in
 * `$ENROOT_CONFIG_PATH/.credentials`, a `$(…)` password left alone without the opt-in and run with
 * it, and `USER@` selecting (or failing to find) a login.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../harness/cli.js";
import { pushImage, sampleImage } from "../harness/fixtures.js";
import { startRegistry, type RegistryServer } from "../harness/registry-server.js";
import { tmpDir, type TmpDir } from "../harness/tools.js";

let registry: RegistryServer;
let home: TmpDir;
let enrootDir: string;

function credentials(lines: string[]): void {
  writeFileSync(join(enrootDir, ".credentials"), lines.join("\n") + "\n", { mode: 0o600 });
}

function cli(args: string[], extra: Record<string, string> = {}) {
  const env = { SREGISTRY_DOCKERHUB_NOHTTPS: "true", ENROOT_CONFIG_PATH: enrootDir, ...extra };
  return runCli(args, { env, baseDir: home.path });
}

before(async () => {
  registry = await startRegistry({ auth: "token" });
  home = await tmpDir("sregistry-enroot-");
  enrootDir = join(home.path, "enroot-config");
  mkdirSync(enrootDir);
  await pushImage(registry, "nvidia/caffe2:17.10", sampleImage());
});

after(async () => {
  await registry?.stop();
  await home?.cleanup();
});

test("docker://HOST#nvidia/caffe2:17.10 authenticates with the key from enroot's credentials file", async () => {
  credentials(["# NGC", `machine 127.0.0.1 login $oauthtoken password ${registry.password!}`]);
  const r = await cli(["--quiet", "record", "--json", `docker://${registry.host}#nvidia/caffe2:17.10`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const out = JSON.parse(r.stdout) as { uri: string; row: { url: string } };
  assert.equal(out.uri, "nvidia/caffe2:17.10");
  assert.equal(out.row.url, `http://${registry.host}/v2/nvidia/caffe2/manifests/17.10`);
});

test("order: the backend's own token, then enroot's file, then Docker's config.json", async () => {
  const dockerDir = join(home.path, "docker-config");
  mkdirSync(dockerDir, { recursive: true });
  const wrong = Buffer.from("$oauthtoken:wrong-docker-key").toString("base64");
  writeFileSync(
    join(dockerDir, "config.json"),
    JSON.stringify({ auths: { [registry.host]: { auth: wrong } } }),
  );
  // enroot's right key wins over Docker's wrong one.
  credentials([`machine 127.0.0.1 login $oauthtoken password ${registry.password!}`]);
  const enrootFirst = await cli(["--quiet", "record", `docker://${registry.host}#nvidia/caffe2:17.10`], {
    DOCKER_CONFIG: dockerDir,
  });
  assert.equal(enrootFirst.code, 0, enrootFirst.stderr);
  // The nvidia backend's own token wins over a wrong key in enroot's file.
  credentials(["machine 127.0.0.1 login $oauthtoken password wrong-enroot-key"]);
  const ownFirst = await cli(["--quiet", "record", "nvidia://caffe2:17.10"], {
    SREGISTRY_NVIDIA_BASE: registry.host,
    SREGISTRY_NVIDIA_NOHTTPS: "true",
    SREGISTRY_NVIDIA_TOKEN: registry.password!,
  });
  assert.equal(ownFirst.code, 0, ownFirst.stderr);
  // And with only wrong keys in enroot's file, the pull fails: the file really is consulted.
  const wrongOnly = await cli(["--quiet", "record", `docker://${registry.host}#nvidia/caffe2:17.10`], {
    DOCKER_CONFIG: dockerDir,
  });
  assert.equal(wrongOnly.code, 1);
});

test("a $(command) password is not run without SREGISTRY_ENROOT_EVAL, and the warning says so", async () => {
  const marker = join(home.path, "command-ran");
  credentials([
    `machine 127.0.0.1 login $oauthtoken password $(touch ${marker}; echo ${registry.password!})`,
  ]);
  const r = await cli(["--quiet", "record", `docker://${registry.host}#nvidia/caffe2:17.10`]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /WARNING skipping line 1 of .*\.credentials \(machine 127\.0\.0\.1\): its password is a shell command, which sregistry runs only with SREGISTRY_ENROOT_EVAL=yes\n/,
  );
  assert.match(r.stderr, /\nERROR .*\n$/);
  assert.equal(existsSync(marker), false, "the command must not have run");
  const opted = await cli(["--quiet", "record", `docker://${registry.host}#nvidia/caffe2:17.10`], {
    SREGISTRY_ENROOT_EVAL: "yes",
  });
  assert.equal(opted.code, 0, opted.stderr);
  assert.equal(opted.stderr, "");
  assert.doesNotMatch(opted.stdout + opted.stderr, new RegExp(registry.password!));
});

test("USER@ picks that login's entry; an unknown login is one clear error", async () => {
  credentials([
    "machine 127.0.0.1 login someone-else password wrong-key",
    `machine 127.0.0.1 login $oauthtoken password ${registry.password!}`,
  ]);
  const ok = await cli(["--quiet", "record", `docker://$oauthtoken@${registry.host}#nvidia/caffe2:17.10`]);
  assert.equal(ok.code, 0, ok.stderr);
  const missing = await cli(["--quiet", "record", `docker://carol@${registry.host}#nvidia/caffe2:17.10`]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    `ERROR no credentials for user carol on ${registry.host}: add "machine 127.0.0.1 login carol password ..." ` +
      `to ${join(enrootDir, ".credentials")}\n`,
  );
});
