import net from 'node:net';

/**
 * SIPREC_ALLOW: the SRCs' source addresses, as IPv4/IPv6 addresses or CIDR
 * prefixes (`10.0.0.0/8`, `2001:db8::/32`).
 * @returns the list, or the first entry that is neither.
 */
export function parseAllowList(entries: readonly string[]): net.BlockList | string {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
    const bits = prefix === undefined ? undefined : Number(prefix);
    if (family === undefined || rest.length > 0 || (bits !== undefined && (!Number.isInteger(bits) || bits < 0 || bits > (family === 'ipv4' ? 32 : 128)))) return entry;
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, bits, family);
  }
  return list;
}
