// bridge.click: a learning two-port Ethernet bridge.
//
// An EtherSwitch between `a` and `b` learns which side each source address
// is on.  A frame leaves on the other port unchanged unless its destination
// was learnt on the port it came from (it is local to that side: dropped and
// counted in sw.drops); broadcast, multicast and unknown destinations are
// forwarded (sw.floods).  Addresses are forgotten TIMEOUT after the last
// frame from them; the table holds CAPACITY addresses.  As an IEEE 802.1D
// bridge must, it does not forward the link-local control frames sent to
// 01:80:c2:00:00:00-0f (STP BPDUs, pause frames, LACP, LLDP ...): those are
// dropped and counted (a_ctl, b_ctl), and not learnt from.  a_to_b and b_to_a
// count the frames and bytes forwarded.

define($TIMEOUT 300, $CAPACITY 1024);

FromDevice(a) -> a_cl :: Classifier(0/0180c20000 5/00%f0, -);
FromDevice(b) -> b_cl :: Classifier(0/0180c20000 5/00%f0, -);
a_cl[0] -> a_ctl :: Discard;
b_cl[0] -> b_ctl :: Discard;
sw :: EtherSwitch(TIMEOUT $TIMEOUT, CAPACITY $CAPACITY);
a_cl[1] -> [0]sw;
b_cl[1] -> [1]sw;
sw[1] -> a_to_b :: Counter -> ToDevice(b);
sw[0] -> b_to_a :: Counter -> ToDevice(a);
