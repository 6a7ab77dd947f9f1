// stateful-firewall.click: connection tracking between two ports (bump in the wire).
//
// Connections may only be opened from `inside`, and only to the services the
// egress rules allow; from `outside`, only packets of a connection the inside
// opened come back (their reverse 5-tuple is in the flow table).  Flows are
// tracked by IPRewriter's `keep` spec (nothing is rewritten: the table is
// the connection tracker; TCP flows end TCP_DONE_TIMEOUT after FIN/RST) and
// ICMP echo by ICMPPingRewriter the same way.  ARP passes both ways; frames
// keep their MAC addresses.  Everything else is dropped and counted:
//   egress.drops (not allowed out), out_new (from outside, no connection),
//   in_other/out_other (not IPv4 or ARP), unsupported (other IP protocols).
//
// Handlers: conn.mappings / conn.nmappings (TCP/UDP connections),
// echo.mappings (pings), conn.clear (forget every connection).

define($FLOWS 16384, $UDP_TIMEOUT 60);

to_out :: ToDevice(outside);
to_in :: ToDevice(inside);
FromDevice(inside) -> in_cl :: Classifier(12/0806, 12/0800, -);
FromDevice(outside) -> out_cl :: Classifier(12/0806, 12/0800, -);
in_cl[0] -> to_out;
out_cl[0] -> to_in;
in_cl[2] -> in_other :: Discard;
out_cl[2] -> out_other :: Discard;

// input 0: the inside opens connections; input 1: the outside only answers.
conn :: IPRewriter(keep 0 1, pass 2, CAPACITY $FLOWS, UDP_TIMEOUT $UDP_TIMEOUT);
echo :: ICMPPingRewriter(keep 0 1, pass 2, CAPACITY 1024);

in_cl[1] -> Strip(14) -> CheckIPHeader
  -> egress :: IPFilter(allow icmp type echo,
                        allow udp && dst port 53 or 123,
                        allow tcp && dst port 22 or 80 or 443,
                        deny all)
  -> in_proto :: IPClassifier(tcp or udp, icmp type echo, -);
in_proto[0] -> [0]conn;
in_proto[1] -> [0]echo;
in_proto[2] -> unsupported :: Discard;

out_cl[1] -> Strip(14) -> CheckIPHeader
  -> out_proto :: IPClassifier(tcp or udp, icmp type echo-reply, -);
out_proto[0] -> [1]conn;
out_proto[1] -> [1]echo;
out_proto[2] -> out_new :: Discard;

conn[0] -> Unstrip(14) -> to_out;
echo[0] -> Unstrip(14) -> to_out;
conn[1] -> Unstrip(14) -> to_in;
echo[1] -> Unstrip(14) -> to_in;
conn[2] -> out_new;
echo[2] -> out_new;
