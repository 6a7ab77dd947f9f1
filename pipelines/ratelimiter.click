// ratelimiter.click: a per-class policer (bump in the wire).
//
// Traffic from `inside` to `outside` is classified by its DSCP into three
// classes, each policed by a token bucket of its own (BandwidthRatedSplitter:
// 20 ms worth of burst): expedited forwarding (DSCP 46, $EF_RATE), assured
// forwarding AF11-AF13 (DSCP 10, 12, 14, $AF_RATE) and best effort
// (everything else, $BE_RATE).  Packets within the rate pass unchanged;
// over-rate packets are dropped and counted per class (ef_drop, af_drop,
// be_drop; ef.count0/count1 ... give passed/over-rate counts).  Non-IPv4 frames
// (ARP ...) pass both ways; traffic from `outside` to `inside` is not policed.

define($EF_RATE 10Mbps, $AF_RATE 50Mbps, $BE_RATE 100Mbps);

to_out :: ToDevice(outside);
to_in :: ToDevice(inside);

FromDevice(inside) -> in_cl :: Classifier(12/0800, -);
in_cl[1] -> to_out;
in_cl[0] -> in_ip :: CheckIPHeader(14)
  -> cls :: IPClassifier(ip dscp 46, ip dscp 10 or ip dscp 12 or ip dscp 14, -);

cls[0] -> ef :: BandwidthRatedSplitter($EF_RATE) -> ef_pass :: Counter -> to_out;
cls[1] -> af :: BandwidthRatedSplitter($AF_RATE) -> af_pass :: Counter -> to_out;
cls[2] -> be :: BandwidthRatedSplitter($BE_RATE) -> be_pass :: Counter -> to_out;
ef[1] -> ef_drop :: Discard;
af[1] -> af_drop :: Discard;
be[1] -> be_drop :: Discard;

FromDevice(outside) -> back :: Counter -> to_in;
