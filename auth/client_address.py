"""The client's address, which login throttling counts attempts against."""

import ipaddress

UNKNOWN_ADDRESS = "unknown"


def canonical_address(address: str) -> str:
    """One spelling per address (`2001:DB8::0:1` is `2001:db8::1`); anything else, cut to the
    throttle key's 64 characters."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address[:64]


class ClientAddresses:
    def __init__(self, trusted_proxies: tuple[str, ...]) -> None:
        self.trusted_proxies = tuple(ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies)

    def of(self, peer: str | None, forwarded_for: str | None) -> str:
        """The peer's address, or, when the peer is a configured trusted proxy, the nearest
        untrusted hop of X-Forwarded-For (read right to left: the left part is the client's)."""
        if peer is None:
            return UNKNOWN_ADDRESS
        if not forwarded_for or not self._trusted(peer):
            return canonical_address(peer)
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return canonical_address(hop)
        return canonical_address(hops[0] if hops else peer)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)
