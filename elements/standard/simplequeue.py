from .queue import Queue


class SimpleQueue(Queue):
    name = "SimpleQueue"
    doc = """
    Stores packets in a FIFO queue (the same element as Queue).

    SimpleQueue(CAPACITY).  Push input, pull output; up to CAPACITY packets
    (default 1000), pulled oldest first.  A packet arriving when the queue
    is full is dropped (pushed to output 1 if connected) and counted in
    `drops`.  Handlers: length, highwater_length, capacity, drops,
    reset_counts, reset.  See Queue (Click's SimpleQueue has no notifiers;
    uknfv's Queue has none either, so the two are identical).

    Example: FromDevice(eth0) -> SimpleQueue(64) -> ToDevice(eth1)
    """
