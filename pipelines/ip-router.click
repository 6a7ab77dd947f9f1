// ip-router.click: a complete two-port IPv4 router (RFC 1812's essentials).
//
//   lan 10.0.1.0/24 ── [ 10.0.1.1  ip-router  10.0.2.1 ] ── wan 10.0.2.0/24
//
// Static routes (the connected networks; add more live with `rt.add`); next
// hops found with ARP (ARPQuerier: packets wait while their
// next hop is resolved); ARP and pings for the router's own addresses
// answered; TTL decremented, and ICMP errors sent back: time exceeded when
// the TTL runs out, network unreachable when no route matches, fragmentation
// needed when a DF packet exceeds the outgoing MTU (larger ones are
// fragmented).  Bad headers and other frames are dropped and counted.
//
// Handlers: rt.table / rt.add / rt.remove (the routes), lan_arp.table,
// wan_arp.table, the drop and error counters.

define($LAN_IP 10.0.1.1, $LAN_MAC 52:54:00:00:01:01, $LAN_NET 10.0.1.0/24,
       $WAN_IP 10.0.2.1, $WAN_MAC 52:54:00:00:02:01, $WAN_NET 10.0.2.0/24,
       $MTU 1500);

lan_out :: ToDevice(lan);
wan_out :: ToDevice(wan);
lan_arp :: ARPQuerier($LAN_IP, $LAN_MAC) -> lan_out;
wan_arp :: ARPQuerier($WAN_IP, $WAN_MAC) -> wan_out;

FromDevice(lan) -> lan_cl :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
FromDevice(wan) -> wan_cl :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
lan_cl[0] -> ARPResponder($LAN_IP $LAN_MAC) -> lan_out;
wan_cl[0] -> ARPResponder($WAN_IP $WAN_MAC) -> wan_out;
lan_cl[1] -> [1]lan_arp;
wan_cl[1] -> [1]wan_arp;
lan_cl[3] -> lan_other :: Discard;
wan_cl[3] -> wan_other :: Discard;

lan_cl[2] -> ip :: Strip(14);
wan_cl[2] -> ip;
ip -> CheckIPHeader -> GetIPAddress(16)
   -> rt :: RadixIPLookup($LAN_IP/32 0, $WAN_IP/32 0,
                          $LAN_NET 1, $WAN_NET 2, 0.0.0.0/0 3);

// For the router itself: answer pings, drop the rest.
rt[0] -> local :: IPClassifier(icmp type echo, -);
local[0] -> ICMPPingResponder -> GetIPAddress(16) -> rt;
local[1] -> local_other :: Discard;

// ICMP errors go back through the routing table.  A two-port router: a
// packet that fails on its way out of one port came in through the other,
// whose address the error carries.
errors :: GetIPAddress(16) -> rt;
rt[3] -> ICMPError($LAN_IP, unreachable, net) -> errors;

// Forwarding: TTL, MTU, then ARP towards the next hop.
rt[1] -> lan_ttl :: DecIPTTL -> lan_frag :: IPFragmenter($MTU) -> [0]lan_arp;
rt[2] -> wan_ttl :: DecIPTTL -> wan_frag :: IPFragmenter($MTU) -> [0]wan_arp;
lan_ttl[1] -> ICMPError($WAN_IP, timeexceeded) -> errors;
wan_ttl[1] -> ICMPError($LAN_IP, timeexceeded) -> errors;
lan_frag[1] -> ICMPError($WAN_IP, unreachable, needfrag, MTU $MTU) -> errors;
wan_frag[1] -> ICMPError($LAN_IP, unreachable, needfrag, MTU $MTU) -> errors;
