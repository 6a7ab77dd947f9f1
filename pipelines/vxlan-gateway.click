// vxlan-gateway.click: a VXLAN tunnel endpoint (VTEP) joining one VLAN to one VNI.
//
// Port `lan` carries 802.1Q frames of VLAN $VLAN (four hex digits: 0064 is
// VLAN 100); port `tunnel` faces the IP underlay.  A lan frame of VLAN $VLAN
// loses its tag and is encapsulated (VXLAN VNI $VNI, UDP 4789, outer IPv4
// $LOCAL_IP -> $REMOTE_IP, outer Ethernet $LOCAL_MAC -> $REMOTE_MAC) towards
// the peer VTEP; frames of other VLANs and untagged frames are dropped
// (lan_other_vlan, lan_untagged).  On the tunnel side the gateway answers ARP
// for $LOCAL_IP; VXLAN packets to $LOCAL_IP with VNI $VNI are decapsulated
// and the inner frame leaves on `lan` tagged with VLAN $VLAN.  Everything else
// is dropped and counted (tun_other, not_for_us, decap.drops with reasons in
// decap.drop_details).

define($VNI 5000, $VLAN 0064,
       $LOCAL_IP 192.168.50.1, $LOCAL_MAC 52:54:00:00:50:01,
       $REMOTE_IP 192.168.50.2, $REMOTE_MAC 02:00:00:00:50:02);

to_lan :: ToDevice(lan);
to_tun :: ToDevice(tunnel);

// lan -> tunnel
FromDevice(lan) -> lan_cl :: Classifier(12/8100 14/$VLAN%0fff, 12/8100, -);
lan_cl[1] -> lan_other_vlan :: Discard;
lan_cl[2] -> lan_untagged :: Discard;
lan_cl[0] -> VLANDecap
  -> encap :: VXLANEncap($VNI, $LOCAL_IP, $REMOTE_IP, ETHSRC $LOCAL_MAC, ETHDST $REMOTE_MAC)
  -> to_tun;

// tunnel -> lan
FromDevice(tunnel) -> tun_cl :: Classifier(12/0806 20/0001, 12/0800, -);
tun_cl[0] -> ARPResponder($LOCAL_IP $LOCAL_MAC) -> to_tun;
tun_cl[2] -> tun_other :: Discard;
tun_cl[1] -> tun_ip :: CheckIPHeader(14)
  -> mine :: IPClassifier(dst host $LOCAL_IP and udp dst port 4789, -);
mine[1] -> not_for_us :: Discard;
mine[0] -> decap :: VXLANDecap($VNI) -> VLANEncap(0x$VLAN) -> to_lan;
