import net from "node:net";

// BlockList matches IPv4-mapped IPv6 addresses against IPv4 subnets in every spelling
// (::ffff:127.0.0.1, ::ffff:7f00:1, which is how a URL parser writes the former).
const loopback = new net.BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** 127.0.0.0/8, ::1, IPv4-mapped 127.x, "localhost" (and *.localhost): names that can only reach this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (net.isIPv4(h)) return loopback.check(h, "ipv4");
  if (net.isIPv6(h)) return loopback.check(h, "ipv6");
  return false;
}
