import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { addressRefusal } from "./global-address.js";

/** [address, what the refusal must mention]: one or more of every range the policy refuses. */
const REFUSED: [string, RegExp][] = [
  ["0.0.0.0", /unspecified/],
  ["0.1.2.3", /unspecified/],
  ["127.0.0.1", /loopback/],
  ["127.255.0.9", /loopback/],
  ["10.1.2.3", /private/],
  ["172.16.0.1", /private/],
  ["172.31.255.255", /private/],
  ["192.168.1.1", /private/],
  ["169.254.169.254", /link-local/],
  ["100.64.0.1", /carrier-grade NAT.*carrierGradeNat/],
  ["100.127.255.254", /carrier-grade NAT/],
  ["198.18.0.1", /reserved/],
  ["198.19.255.255", /reserved/],
  ["192.0.0.8", /reserved/],
  ["192.0.2.1", /reserved/],
  ["198.51.100.7", /reserved/],
  ["203.0.113.9", /reserved/],
  ["240.0.0.1", /reserved/],
  ["224.0.0.1", /multicast/],
  ["239.255.255.250", /multicast/],
  ["255.255.255.255", /broadcast/],
  ["::", /unspecified/],
  ["::1", /loopback/],
  ["fc00::1", /unique local/],
  ["fdff::1", /unique local/],
  ["fe80::1", /link-local/],
  ["fe80::1%eth0", /link-local/],
  ["fec0::1", /site-local/],
  ["ff02::1", /multicast/],
  ["ff0e::1", /multicast/],
  ["2001:db8::1", /reserved/],
  ["2001:2::1", /benchmarking/],
  ["100::1", /discard/],
  ["::1:2:3", /2000::\/3/],
  ["5f00::1", /segment routing/],
  // IPv4-mapped, in every spelling
  ["::ffff:127.0.0.1", /IPv4-mapped form of 127\.0\.0\.1: loopback/],
  ["::ffff:7f00:1", /IPv4-mapped form of 127\.0\.0\.1/],
  ["0:0:0:0:0:ffff:a9fe:a9fe", /IPv4-mapped form of 169\.254\.169\.254: link-local/],
  ["::ffff:100.64.0.1", /IPv4-mapped form of 100\.64\.0\.1: carrier-grade NAT/],
  // NAT64, well-known prefix (the embedded address decides) and local-use prefix (always refused)
  ["64:ff9b::a9fe:a9fe", /NAT64 form of 169\.254\.169\.254: link-local/],
  ["64:ff9b::10.0.0.1", /NAT64 form of 10\.0\.0\.1: private/],
  ["64:ff9b::6440:1", /NAT64 form of 100\.64\.0\.1: carrier-grade NAT/],
  ["64:ff9b:1::808:808", /local-use NAT64/],
  // 6to4: 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD
  ["2002:a00:1::1", /6to4 form of 10\.0\.0\.1: private/],
  ["2002:7f00:1::", /6to4 form of 127\.0\.0\.1: loopback/],
  ["2002:c612:1::1", /6to4 form of 198\.18\.0\.1: reserved/],
  // IPv4-compatible (deprecated) and IPv4-translated: refused whatever they embed
  ["::10.0.0.1", /IPv4-compatible form of 10\.0\.0\.1/],
  ["::8.8.8.8", /IPv4-compatible form of 8\.8\.8\.8/],
  ["::a9fe:a9fe", /IPv4-compatible form of 169\.254\.169\.254/],
  ["::ffff:0:8.8.8.8", /IPv4-translated form of 8\.8\.8\.8/],
  // Teredo: server 10.0.0.1 or client (inverted) 10.0.0.1
  ["2001:0:a00:1:0:0:9c9c:9c9c", /Teredo form of 10\.0\.0\.1: private/],
  ["2001:0:808:808:0:0:f5ff:fffe", /Teredo form of 10\.0\.0\.1: private/],
  // not addresses at all (sockets never report these, URL hosts are canonical)
  ["127.1", /not an IP address/],
  ["cdn.example", /not an IP address/],
  ["", /not an IP address/],
];

const ACCEPTED = [
  "93.184.216.34",
  "8.8.8.8",
  "1.1.1.1",
  "172.32.0.1",
  "100.128.0.1",
  "198.20.0.1",
  "2606:4700::1111",
  "2a00:1450:4001:80b::200e",
  "::ffff:8.8.8.8",
  "64:ff9b::808:808",
  "2002:808:808::1",
  "2001:0:808:808:0:0:f7f7:f7f7", // Teredo, server and client 8.8.8.8
];

describe("addressRefusal", () => {
  for (const [address, why] of REFUSED) {
    it(`refuses ${address || "(empty)"}`, () => {
      const refusal = addressRefusal(address);
      assert.ok(refusal !== undefined, `${address} was accepted`);
      assert.match(refusal, why);
    });
  }

  it("accepts global unicast IPv4 and IPv6, and forms embedding a global IPv4 address", () => {
    for (const address of ACCEPTED) assert.equal(addressRefusal(address), undefined, address);
  });

  it("accepts loopback only with the test override, and nothing else with it", () => {
    for (const address of ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"]) {
      assert.match(addressRefusal(address) ?? "", /loopback/, address);
      assert.equal(addressRefusal(address, { allowLoopbackForTests: true }), undefined, address);
    }
    for (const address of ["10.0.0.1", "100.64.0.1", "169.254.169.254", "::"]) {
      assert.notEqual(addressRefusal(address, { allowLoopbackForTests: true }), undefined, address);
    }
  });
});
