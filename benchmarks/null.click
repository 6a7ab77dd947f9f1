// null.click: the cost of the framework itself.
//
// InfiniteSource allocates a buffer, copies the 64-byte frame into it and
// pushes it; Discard counts and frees it.  Nothing else happens, so packets
// per second here is the ceiling every other benchmark runs under.
//
//   uknfv run benchmarks/null.click --opt release --stats      (N=... to change the count)

define($N 20000000);

src :: InfiniteSource(DATA \<52540000 0101 0200 0000 0102 0800
                             45000032 12340000 40115181 0a000102 0a000205
                             04d2162e 001e3003
                             61626364 65666768 696a6b6c 6d6e6f70 71727374 7576>,
                      LIMIT $N, BURST 32, STOP true);
sink :: Discard;

src -> sink;
