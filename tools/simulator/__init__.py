"""A faithful simulator of the Grafana Cloud k6 REST API (v6, legacy v2 runs, v5 metric aggregates).

>>> sim = Simulator(speed=0)
>>> with SimulatorServer(sim) as url:
...     ...  # point a client at url
"""

from .clock import SimClock
from .errors import ApiError
from .faults import Fault
from .recording import RecordedRequest
from .server import SimulatorServer
from .state import Simulator

__all__ = ["ApiError", "Fault", "RecordedRequest", "SimClock", "Simulator", "SimulatorServer"]
