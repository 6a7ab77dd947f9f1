// bridge.click: a transparent two-port Ethernet bridge.
//
// Every frame from `a` leaves on `b` unchanged, and every frame from `b`
// leaves on `a`, in order: with two ports there is nothing to learn (a
// learning bridge would forward each frame to the only other port or drop it
// as local, and uknfv has no MAC-learning element).  As an IEEE 802.1D bridge
// must, it does not forward the link-local control frames sent to
// 01:80:c2:00:00:00-0f (STP BPDUs, pause frames, LACP, LLDP ...): those are
// dropped and counted (a_ctl, b_ctl).  a_to_b and b_to_a count the frames
// and bytes forwarded.

FromDevice(a) -> a_cl :: Classifier(0/0180c20000 5/00%f0, -);
FromDevice(b) -> b_cl :: Classifier(0/0180c20000 5/00%f0, -);
a_cl[0] -> a_ctl :: Discard;
b_cl[0] -> b_ctl :: Discard;
a_cl[1] -> a_to_b :: Counter -> ToDevice(b);
b_cl[1] -> b_to_a :: Counter -> ToDevice(a);
