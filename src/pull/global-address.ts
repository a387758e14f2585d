/**
 * Is an IP address one that a foreign layer URL may be fetched from? Only global unicast is: the
 * URLs come from the image author, so anything else could reach the cloud metadata service, the
 * carrier's or the user's own network, or a service on this machine (server-side request forgery).
 *
 * The classification is ipaddr.js's `range()` (its tables follow the IANA special-purpose address
 * registries, RFC 6890): an address is accepted only when it is `"unicast"`, i.e. in none of the
 * special ranges. Refused IPv4 ranges, by ipaddr.js name: `unspecified` 0/8, `broadcast`
 * 255.255.255.255, `multicast` 224/4, `linkLocal` 169.254/16 (metadata services), `loopback` 127/8,
 * `carrierGradeNat` 100.64/10 (RFC 6598; metadata on some clouds), `private` 10/8 172.16/12
 * 192.168/16, `reserved` (192.0.0/24, the TEST-NETs, 192.88.99/24, the benchmarking 198.18/15,
 * 240/4), `as112` and `amt` (anycast services, never a download host).
 *
 * IPv6 forms that carry an IPv4 address are unwrapped and the IPv4 address is classified too, since
 * a connection to them ends at (or is translated to) that IPv4 host:
 * - IPv4-mapped `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2): what a dual-stack socket reports;
 * - well-known NAT64 `64:ff9b::a.b.c.d` (RFC 6052 §2.1): what DNS64 answers on IPv6-only networks;
 * - 6to4 `2002:AABB:CCDD::/48` (RFC 3056 §2): the relay forwards to the embedded address;
 * - Teredo `2001:0:SSSS:SSSS::CCCC:CCCC` (RFC 4380 §4): server and (inverted) client addresses.
 * Refused outright, whatever they embed: IPv4-compatible `::a.b.c.d` (deprecated by RFC 4291
 * §2.5.5.1; some stacks still tunnel it to the IPv4 host), IPv4-translated `::ffff:0:a.b.c.d`
 * (RFC 6145; meaningful only inside a translator) and the local-use NAT64 prefix `64:ff9b:1::/48`
 * (RFC 8215: not globally reachable, and where the IPv4 address sits depends on the local prefix
 * length). Every other IPv6 address must be `"unicast"` for ipaddr.js *and* inside 2000::/3, the only
 * block IANA allocates global unicast from (RFC 4291 §2.4), which also rules out the rest of ::/8.
 *
 * @example
 * ```ts
 * addressRefusal("93.184.216.34"); // undefined: global unicast
 * addressRefusal("100.64.0.1"); // "carrier-grade NAT (ipaddr.js range carrierGradeNat)"
 * addressRefusal("64:ff9b::a9fe:a9fe"); // "NAT64 form of 169.254.169.254: link-local (ipaddr.js range linkLocal)"
 * ```
 */
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/** Human words for ipaddr.js range names, so a refusal says what the address is. */
const RANGE_WORDS: Record<string, string> = {
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast",
  linkLocal: "link-local",
  loopback: "loopback",
  carrierGradeNat: "carrier-grade NAT",
  private: "private",
  reserved: "reserved",
  as112: "AS112 anycast",
  amt: "AMT anycast",
  uniqueLocal: "unique local (private)",
  deprecatedSiteLocal: "site-local (deprecated)",
  discard: "discard-only",
  benchmarking: "benchmarking",
  as112v6: "AS112 anycast",
  deprecatedOrchid: "ORCHID",
  orchid2: "ORCHIDv2",
  droneRemoteIdProtocolEntityTags: "drone remote ID tags",
  segmentRouting: "segment routing",
};

export interface AddressPolicy {
  /**
   * Also accept loopback addresses (127.0.0.0/8, ::1). Tests only, whose servers listen on
   * 127.0.0.1; given in code, never read from the environment or the command line.
   */
  allowLoopbackForTests?: boolean;
}

/**
 * Why `address` must not be connected to for a foreign layer URL, or `undefined` when it is a global
 * unicast address. Anything that is not a plain IP address (a host name, `127.1`) is refused too.
 */
export function addressRefusal(address: string, policy: AddressPolicy = {}): string | undefined {
  const plain = address.split("%")[0] ?? ""; // an IPv6 zone (fe80::1%eth0) does not change the range
  if (isIP(plain) === 0) return "not an IP address";
  const parsed = ipaddr.parse(isIP(plain) === 6 ? canonicalIpv6(plain) : plain);
  if (policy.allowLoopbackForTests && parsed.range() === "loopback") return undefined;
  if (parsed.kind() === "ipv4") return ipv4Refusal(parsed as ipaddr.IPv4);
  return ipv6Refusal(parsed as ipaddr.IPv6, policy);
}

function ipv4Refusal(address: ipaddr.IPv4): string | undefined {
  const range = address.range();
  if (range === "unicast") return undefined;
  return describeRange(range);
}

function ipv6Refusal(address: ipaddr.IPv6, policy: AddressPolicy): string | undefined {
  const words = address.parts;
  const embedded = embeddedIpv4(address);
  if (embedded) {
    const refusals = embedded.addresses
      .map((ipv4) => [ipv4, addressRefusal(ipv4.toString(), policy)] as const)
      .filter(([, refusal]) => refusal !== undefined);
    if (refusals.length === 0) return undefined;
    const [ipv4, refusal] = refusals[0]!;
    return `${embedded.form} form of ${ipv4.toString()}: ${refusal}`;
  }
  const range = address.range();
  if (range === "unspecified" || range === "loopback") return RANGE_WORDS[range];
  if (words.slice(0, 6).every((word) => word === 0)) {
    return `IPv4-compatible form of ${tail(words).toString()} (deprecated)`;
  }
  if (range === "rfc6145") return `IPv4-translated form of ${tail(words).toString()}`;
  if (range === "rfc6052") return "local-use NAT64 (64:ff9b:1::/48)";
  if (range !== "unicast") return describeRange(range);
  if (words[0]! >> 13 !== 0b001) return "not in the global unicast block 2000::/3";
  return undefined;
}

/**
 * `::808:808` for `::8.8.8.8`: ipaddr.js reads a bare `::a.b.c.d` as IPv4-mapped, which it is not;
 * the WHATWG URL parser writes every IPv6 address in hex, as the kernel sees it.
 */
function canonicalIpv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** The IPv4 addresses an IPv6 address leads to, for the forms that embed one. */
function embeddedIpv4(address: ipaddr.IPv6): { form: string; addresses: ipaddr.IPv4[] } | undefined {
  const words = address.parts;
  const range = address.range();
  if (range === "ipv4Mapped") return { form: "IPv4-mapped", addresses: [address.toIPv4Address()] };
  if (range === "rfc6052" && ipaddr.parseCIDR("64:ff9b::/96")[0].match(address, 96)) {
    return { form: "NAT64", addresses: [tail(words)] };
  }
  if (range === "6to4") return { form: "6to4", addresses: [ipv4Of(words[1]!, words[2]!)] };
  if (range === "teredo") {
    // Server in bits 32-63; client in the last 32 bits, inverted (RFC 4380 §4).
    const client = ipv4Of(~words[6]! & 0xffff, ~words[7]! & 0xffff);
    return { form: "Teredo", addresses: [ipv4Of(words[2]!, words[3]!), client] };
  }
  return undefined;
}

/** "carrier-grade NAT (carrierGradeNat)": our words, then ipaddr.js's name to look the range up by. */
function describeRange(range: string): string {
  return `${RANGE_WORDS[range] ?? "special-purpose"} (ipaddr.js range ${range})`;
}

function tail(words: number[]): ipaddr.IPv4 {
  return ipv4Of(words[6]!, words[7]!);
}

function ipv4Of(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}
