// router.click: the forwarding path of an IPv4 router with 21 routes.
//
// Ethernet in (Classifier on the EtherType), header check, destination
// annotation, longest-prefix-match lookup, TTL decrement with incremental
// checksum, new Ethernet header towards the next hop.  The frame is
// UDP 10.0.1.2 -> 10.0.2.5, which takes route 10.0.2.0/24 (output 2, inside
// 10.0.0.0/8 and the default route).
//
//   uknfv run benchmarks/router.click --opt release --stats

define($N 20000000);

src :: InfiniteSource(DATA \<52540000 0101 0200 0000 0102 0800
                             45000032 12340000 40115181 0a000102 0a000205
                             04d2162e 001e3003
                             61626364 65666768 696a6b6c 6d6e6f70 71727374 7576>,
                      LIMIT $N, BURST 32, STOP true);
sink :: Discard;     // forwarded packets: the count the benchmark reads
other :: Discard;    // not IPv4
local :: Discard;    // for the router itself
expired :: Discard;  // TTL expired

src -> cl :: Classifier(12/0800, -);
cl[1] -> other;
cl[0] -> Strip(14)
      -> CheckIPHeader
      -> GetIPAddress(16)
      -> rt :: RadixIPLookup(
           // the router's own addresses
           10.0.1.1/32 0, 10.0.2.1/32 0, 10.0.3.1/32 0,
           // directly connected
           10.0.1.0/24 1, 10.0.2.0/24 2, 10.0.3.0/24 3,
           // internal networks behind gateways
           10.1.0.0/16 10.0.2.254 2, 10.2.0.0/16 10.0.3.254 3, 10.0.0.0/8 10.0.3.254 3,
           172.16.0.0/12 10.0.2.254 2, 172.16.8.0/21 10.0.1.254 1,
           192.168.0.0/16 10.0.1.254 1, 192.168.100.0/24 10.0.2.254 2,
           100.64.0.0/10 10.0.3.254 3, 198.18.0.0/15 10.0.2.254 2,
           192.0.2.0/24 10.0.3.254 3, 198.51.100.0/24 10.0.2.254 2,
           203.0.113.0/24 10.0.1.254 1, 8.8.8.0/24 10.0.3.254 3,
           224.0.0.0/4 0,
           // default route
           0.0.0.0/0 10.0.3.254 3);

rt[0] -> local;
rt[1] -> ttl1 :: DecIPTTL -> EtherEncap(0x0800, 52:54:00:00:01:01, 02:00:00:00:01:02) -> sink;
rt[2] -> ttl2 :: DecIPTTL -> EtherEncap(0x0800, 52:54:00:00:02:01, 02:00:00:00:02:02) -> sink;
rt[3] -> ttl3 :: DecIPTTL -> EtherEncap(0x0800, 52:54:00:00:03:01, 02:00:00:00:03:02) -> sink;
ttl1[1] -> expired;
ttl2[1] -> expired;
ttl3[1] -> expired;
