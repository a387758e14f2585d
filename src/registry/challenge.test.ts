import { test } from "node:test";
import assert from "node:assert/strict";
import { parseChallenges, findChallenge } from "./challenge.js";

const cases: {
  name: string;
  header: string | string[];
  want: { scheme: string; params: Record<string, string> }[];
}[] = [
  {
    name: "docker hub, usual order",
    header:
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    want: [
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/busybox:pull",
        },
      },
    ],
  },
  {
    name: "nvcr.io without service",
    header: 'Bearer realm="https://nvcr.io/proxy_auth",scope="repository:nvidia/x:pull"',
    want: [
      {
        scheme: "bearer",
        params: { realm: "https://nvcr.io/proxy_auth", scope: "repository:nvidia/x:pull" },
      },
    ],
  },
  {
    name: "nvcr.io ping: realm only",
    header: 'Bearer realm="https://nvcr.io/proxy_auth"',
    want: [{ scheme: "bearer", params: { realm: "https://nvcr.io/proxy_auth" } }],
  },
  {
    name: "any order, spaces, commas inside quotes, error parameter",
    header:
      'bearer  scope="repository:a/b:pull,push" , error="invalid_token", realm="https://h/t", service=reg.io',
    want: [
      {
        scheme: "bearer",
        params: {
          scope: "repository:a/b:pull,push",
          error: "invalid_token",
          realm: "https://h/t",
          service: "reg.io",
        },
      },
    ],
  },
  {
    name: "escaped quote",
    header: 'Basic realm="say \\"hi\\""',
    want: [{ scheme: "basic", params: { realm: 'say "hi"' } }],
  },
  {
    name: "basic without parameters",
    header: "Basic",
    want: [{ scheme: "basic", params: {} }],
  },
  {
    name: "two challenges in one header",
    header: 'Basic realm="Registry Realm", Bearer realm="https://t/token",service="s"',
    want: [
      { scheme: "basic", params: { realm: "Registry Realm" } },
      { scheme: "bearer", params: { realm: "https://t/token", service: "s" } },
    ],
  },
  {
    name: "two header lines",
    header: ['Basic realm="r"', 'Bearer realm="https://t"'],
    want: [
      { scheme: "basic", params: { realm: "r" } },
      { scheme: "bearer", params: { realm: "https://t" } },
    ],
  },
  {
    name: "token68 form",
    header: "Negotiate abc+/def==, Basic realm=x",
    want: [
      { scheme: "negotiate", params: { token68: "abc+/def==" } },
      { scheme: "basic", params: { realm: "x" } },
    ],
  },
  {
    name: "upper-case parameter names",
    header: 'BEARER REALM="https://x/t",Service="y"',
    want: [{ scheme: "bearer", params: { realm: "https://x/t", service: "y" } }],
  },
];

for (const c of cases) {
  test(`parseChallenges: ${c.name}`, () => {
    assert.deepEqual(parseChallenges(c.header), c.want);
  });
}

test("parseChallenges: empty and missing", () => {
  assert.deepEqual(parseChallenges(undefined), []);
  assert.deepEqual(parseChallenges(""), []);
  assert.deepEqual(parseChallenges(" , "), []);
});

test("findChallenge picks the scheme", () => {
  const all = parseChallenges('Basic realm="r", Bearer realm="https://t"');
  assert.equal(findChallenge(all, "bearer")?.params.realm, "https://t");
  assert.equal(findChallenge(all, "basic")?.params.realm, "r");
  assert.equal(findChallenge(parseChallenges("Basic"), "bearer"), undefined);
});
