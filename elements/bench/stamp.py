"""The test stamp TrafficGen writes and TrafficSink reads (shared constants).

The stamp is the first 18 bytes of the UDP payload, all big-endian:

    offset 0   2 bytes   magic 0x2544 (RFC 2544)
    offset 2   8 bytes   sequence number (0, 1, 2 ... per generator since its last reset)
    offset 10  8 bytes   transmit time, ns on the process's monotonic clock (rt_mono_ns)

18 bytes is what a 64-byte frame holds after Ethernet (14), IPv4 (20) and
UDP (8) headers and the 4-byte FCS: 64 - 4 - 42 = 18.  That is why the magic
is a 16-bit word: a 32-bit one would not leave room for a 64-bit sequence
number and a 64-bit timestamp in the smallest RFC 2544 frame.
"""

STAMP_MAGIC = 0x2544
STAMP_LEN = 18
ETH_LEN = 14
IP_LEN = 20
UDP_LEN = 8
HEADERS_LEN = ETH_LEN + IP_LEN + UDP_LEN      # 42: the UDP payload starts here
FCS_LEN = 4
# Bytes a packet buffer holds from its data pointer on (PKT_DATAROOM in pkt.h).
MAX_BUFFER = 2048

# The simple ("classic") IMIX: 7 x 64, 4 x 570, 1 x 1518 bytes (frame sizes with FCS).
SIMPLE_IMIX = ((64, 7), (570, 4), (1518, 1))
