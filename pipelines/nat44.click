// nat44.click: source NAT (NAPT) from a private network to a public address.
//
//   inside 10.0.1.0/24 ── [ 10.0.1.1  nat44  10.0.2.1 ] ── outside 10.0.2.0/24
//
// TCP and UDP flows from the inside leave with source address $OUT_IP and a
// source port from 1024-65535 (one per flow); replies are mapped back to the
// inside host and port.  Pings from the inside leave through an ICMP echo
// rewriter the same way.  Inside hosts are found with ARP (ARPQuerier:
// packets wait while a host is resolved); everything to the outside goes to
// the upstream gateway $OUT_GW_MAC, as on a CPE.  The vNF answers ARP and
// pings for its own addresses.  Unsolicited packets from the outside that
// match no flow are dropped and counted (`out_unmatched`).
//
// Handlers: nat.mappings / nat.nmappings (the flow table), ping.mappings,
// in_arp.table, the drop counters.

define($IN_IP 10.0.1.1, $IN_MAC 52:54:00:00:01:01,
       $OUT_IP 10.0.2.1, $OUT_MAC 52:54:00:00:02:01, $OUT_GW_MAC 02:00:00:00:02:02,
       $PORTS 1024-65535, $FLOWS 16384);

to_in :: ToDevice(inside);
to_out :: ToDevice(outside);
in_arp :: ARPQuerier($IN_IP, $IN_MAC);
in_arp -> to_in;
out_eth :: EtherEncap(0x0800, $OUT_MAC, $OUT_GW_MAC) -> to_out;

// Ethernet in: ARP requests, ARP replies, IPv4, the rest.
FromDevice(inside) -> in_cl :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
FromDevice(outside) -> out_cl :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
in_cl[0] -> ARPResponder($IN_IP $IN_MAC) -> to_in;
out_cl[0] -> ARPResponder($OUT_IP $OUT_MAC) -> to_out;
in_cl[1] -> [1]in_arp;
out_cl[1] -> out_arp_reply :: Discard;
in_cl[3] -> in_other :: Discard;
out_cl[3] -> out_other :: Discard;

// The translators: input 0 from the inside (new flows get a mapping),
// input 1 from the outside (replies of known flows only).
nat :: IPRewriter(pattern $OUT_IP $PORTS - - 0 1, pass 2, CAPACITY $FLOWS);
ping :: ICMPPingRewriter(pattern $OUT_IP 1024-65535 - - 0 1, pass 2, CAPACITY 1024);

// Inside -> outside.
in_cl[2] -> Strip(14) -> CheckIPHeader
  -> in_ip :: IPClassifier(dst host $IN_IP and icmp type echo, dst host $IN_IP,
                           icmp type echo, tcp or udp, -);
in_ip[0] -> ICMPPingResponder -> GetIPAddress(16) -> [0]in_arp;
in_ip[1] -> in_local :: Discard;
in_ip[2] -> in_ttl :: DecIPTTL -> [0]ping;
in_ip[3] -> in_ttl2 :: DecIPTTL -> [0]nat;
in_ip[4] -> in_unsupported :: Discard;
in_ttl[1] -> expired :: Discard;
in_ttl2[1] -> expired;

// Outside -> inside: replies of mapped flows; the rest is local or dropped.
out_cl[2] -> Strip(14) -> CheckIPHeader
  -> out_ip :: IPClassifier(icmp type echo-reply, tcp or udp, -);
out_ip[0] -> [1]ping;
out_ip[1] -> [1]nat;
out_ip[2] -> out_local :: IPClassifier(dst host $OUT_IP and icmp type echo, -);
out_local[0] -> ICMPPingResponder -> out_eth;
out_local[1] -> out_unmatched :: Discard;

nat[0] -> out_eth;
ping[0] -> out_eth;
nat[1] -> [0]in_arp;
ping[1] -> [0]in_arp;
nat[2] -> out_unmatched;
ping[2] -> out_unmatched;
