// firewall.click: a stateless IPv4 packet filter of 11 rules.
//
// The frame (UDP 10.0.1.2:1234 -> 10.0.2.5:5678) is tested against every
// rule and allowed only by the last one, so each packet pays for all rule
// tests.  Rules in Click's IPFilter language; the first match wins and a
// packet that matches no rule is dropped.
//
//   uknfv run benchmarks/firewall.click --opt release --stats

define($N 20000000);

src :: InfiniteSource(DATA \<52540000 0101 0200 0000 0102 0800
                             45000032 12340000 40115181 0a000102 0a000205
                             04d2162e 001e3003
                             61626364 65666768 696a6b6c 6d6e6f70 71727374 7576>,
                      LIMIT $N, BURST 32, STOP true);
sink :: Discard;     // allowed packets: the count the benchmark reads

src -> Strip(14)
    -> CheckIPHeader
    -> fw :: IPFilter(
         // anti-spoofing: bogon and martian sources
         deny src net 0.0.0.0/8 or src net 127.0.0.0/8 or src net 169.254.0.0/16,
         deny src net 224.0.0.0/4 or src net 240.0.0.0/4,
         // fragments are not let through
         deny ip frag,
         // a known-bad host
         deny src host 198.51.100.66,
         // legacy and file-sharing services
         deny tcp dst port telnet or tcp dst port 445,
         deny udp dst port 137 or udp dst port 138 or tcp dst port 139,
         deny udp dst port snmp or udp dst port snmp-trap,
         // management only from the admin subnet
         allow tcp dst port ssh and src net 10.0.9.0/24,
         deny tcp dst port ssh,
         // web
         allow tcp dst host 10.0.2.80 and (dst port www or dst port https),
         // internal UDP traffic between the two LANs
         allow udp and src net 10.0.1.0/24 and dst net 10.0.2.0/24 and dst port > 1023)
    -> Unstrip(14)
    -> sink;
