"""A faithful simulator of the Grafana Cloud k6 REST API (v6, legacy v2 runs, the v5 metrics API).

The v5 metrics of a run come from :mod:`tools.simulator.runmodel` (what its script does, solved to agree
with its result); :mod:`tools.simulator.ops_metrics` says which runs have metrics. Every v5 request can be
slowed down for benchmarks with ``sim.faults.add(Fault(path=r"/cloud/v5/.*", kind="latency", delay=0.05,
times=None))`` (independent requests still overlap: the delay does not hold the simulator).

>>> sim = Simulator(speed=0)
>>> with SimulatorServer(sim) as url:
...     ...  # point a client at url
"""

from .clock import SimClock
from .errors import ApiError
from .faults import Fault
from .models import RunStory
from .recording import RecordedRequest
from .server import SimulatorServer
from .state import Simulator

__all__ = ["ApiError", "Fault", "RecordedRequest", "RunStory", "SimClock", "Simulator", "SimulatorServer"]
