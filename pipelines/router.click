// router.click: a two-port IPv4 router, the example vNF.
//
// Ports `lan` and `wan` are logical: bind them at run time to pcap files,
// Linux interfaces, TAPs or (in the unikernel) virtio-net NICs.  The router
// answers ARP for its own addresses, answers pings to them, routes between
// 10.0.1.0/24 and 10.0.2.0/24 with TTL decrement, and drops (counting) bad
// headers, expired TTLs and unroutable destinations.  Neighbours' MAC
// addresses are static here (set them with NAME=VALUE at build time).

define($LAN_IP 10.0.1.1, $LAN_MAC 52:54:00:00:01:01, $LAN_HOST 02:00:00:00:01:02,
       $WAN_IP 10.0.2.1, $WAN_MAC 52:54:00:00:02:01, $WAN_HOST 02:00:00:00:02:02);

lan_out :: ToDevice(lan);
wan_out :: ToDevice(wan);

// Ethernet in: ARP requests, IPv4, everything else.
FromDevice(lan) -> lan_cl :: Classifier(12/0806 20/0001, 12/0800, -);
FromDevice(wan) -> wan_cl :: Classifier(12/0806 20/0001, 12/0800, -);
lan_cl[0] -> ARPResponder($LAN_IP $LAN_MAC) -> lan_out;
wan_cl[0] -> ARPResponder($WAN_IP $WAN_MAC) -> wan_out;
lan_cl[2] -> lan_other :: Discard;
wan_cl[2] -> wan_other :: Discard;

// IPv4: check the header, look up the destination.
lan_cl[1] -> ip :: Strip(14);
wan_cl[1] -> ip;
ip -> CheckIPHeader -> GetIPAddress(16)
   -> rt :: RadixIPLookup($LAN_IP/32 0, $WAN_IP/32 0, 10.0.1.0/24 1, 10.0.2.0/24 2);

// For the router itself: answer pings, drop the rest.
rt[0] -> local :: IPClassifier(icmp type echo, -);
local[0] -> ICMPPingResponder -> GetIPAddress(16) -> rt;
local[1] -> local_other :: Discard;

// Forwarding: TTL, then a new Ethernet header towards the neighbour.
rt[1] -> lan_ttl :: DecIPTTL -> EtherEncap(0x0800, $LAN_MAC, $LAN_HOST) -> lan_out;
rt[2] -> wan_ttl :: DecIPTTL -> EtherEncap(0x0800, $WAN_MAC, $WAN_HOST) -> wan_out;
lan_ttl[1] -> expired :: Discard;
wan_ttl[1] -> expired;
