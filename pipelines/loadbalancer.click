// loadbalancer.click: an L4 load balancer for one virtual IP over four backends.
//
// Clients reach the virtual address $VIP on port `front`; the balancer answers
// ARP for it there.  Each IPv4 flow to the VIP (its 5-tuple) is mapped by
// ConsistentHashLB `lb` to one of the backends b0..b3 and leaves on port `back`
// with only its Ethernet header rewritten (source $BACK_MAC, destination the
// backend's MAC): the IP packet is untouched, so the destination stays the VIP.
// This is direct server return (DSR) style L2 load balancing: every backend
// owns $VIP on a loopback interface (and does not answer ARP for it).
// Replies coming back from the backends on `back` (IPv4 from $VIP) are
// forwarded to the client gateway $GW_MAC on `front`.
//
// Health: `uknfv write SOCK lb.down 2` takes backend 2 out (only its flows
// move, spread over the others), `lb.up 2` puts it back; `lb.backends` lists
// them.  Everything else is dropped and counted (front_other, back_other,
// not_vip, not_from_vip, and the drops of CheckIPHeader and lb).

define($VIP 10.0.0.100,
       $FRONT_MAC 52:54:00:00:10:01, $GW_MAC 02:00:00:00:10:fe,
       $BACK_IP 10.0.1.1, $BACK_MAC 52:54:00:00:11:01,
       $B0_MAC 02:00:00:00:11:10, $B1_MAC 02:00:00:00:11:11,
       $B2_MAC 02:00:00:00:11:12, $B3_MAC 02:00:00:00:11:13);

to_front :: ToDevice(front);
to_back :: ToDevice(back);

// front: ARP requests (answered for the VIP), IPv4, the rest.
FromDevice(front) -> front_cl :: Classifier(12/0806 20/0001, 12/0800, -);
front_cl[0] -> ARPResponder($VIP $FRONT_MAC) -> to_front;
front_cl[2] -> front_other :: Discard;

// Client traffic to the VIP: pick the backend, rewrite the Ethernet header.
front_cl[1] -> front_ip :: CheckIPHeader(14)
  -> vip :: IPClassifier(dst host $VIP, -);
vip[1] -> not_vip :: Discard;
vip[0] -> lb :: ConsistentHashLB(BACKENDS b0 b1 b2 b3);
lb[0] -> EtherRewrite($BACK_MAC, $B0_MAC) -> to_back;
lb[1] -> EtherRewrite($BACK_MAC, $B1_MAC) -> to_back;
lb[2] -> EtherRewrite($BACK_MAC, $B2_MAC) -> to_back;
lb[3] -> EtherRewrite($BACK_MAC, $B3_MAC) -> to_back;

// back: ARP for the balancer's own back address, replies from the VIP, the rest.
FromDevice(back) -> back_cl :: Classifier(12/0806 20/0001, 12/0800, -);
back_cl[0] -> ARPResponder($BACK_IP $BACK_MAC) -> to_back;
back_cl[2] -> back_other :: Discard;
back_cl[1] -> back_ip :: CheckIPHeader(14)
  -> from_vip :: IPClassifier(src host $VIP, -);
from_vip[1] -> not_from_vip :: Discard;
from_vip[0] -> EtherRewrite($FRONT_MAC, $GW_MAC) -> to_front;
