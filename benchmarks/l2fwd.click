// l2fwd.click: layer-2 forwarding, the work of an L2 patch/forwarder.
//
// Every frame gets its MAC header annotation set and both Ethernet
// addresses rewritten, then leaves (Discard stands in for the TX port).
//
//   uknfv run benchmarks/l2fwd.click --opt release --stats

define($N 20000000);

src :: InfiniteSource(DATA \<52540000 0101 0200 0000 0102 0800
                             45000032 12340000 40115181 0a000102 0a000205
                             04d2162e 001e3003
                             61626364 65666768 696a6b6c 6d6e6f70 71727374 7576>,
                      LIMIT $N, BURST 32, STOP true);
sink :: Discard;

src -> MarkMACHeader
    -> EtherRewrite(52:54:00:00:02:01, 02:00:00:00:02:02)
    -> sink;
