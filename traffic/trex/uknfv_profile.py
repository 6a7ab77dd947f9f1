"""A TRex profile over uknfv's named scenarios, for machines where uknfv is installed.

    trex-console> start -f .../uknfv/traffic/trex/uknfv_profile.py -p 0 -t scenario=imix
    trex-console> start -f .../uknfv/traffic/trex/uknfv_profile.py -p 0 -t --scenario imix

Without uknfv on the TRex machine, write a standalone profile instead:
``uknfv trex profile imix -o imix_profile.py``.
"""
from uknfv.traffic.trex import STLS1, register  # noqa: F401
