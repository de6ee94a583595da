"""Every operation's declaration, grouped as the API is. Importing this package registers them all."""

from tools.operations import (  # noqa: F401 - imported for their declarations
    account,
    charts,
    compare,
    investigate,
    labels,
    legacy,
    load_tests,
    load_zones,
    projects,
    schedules,
    test_runs,
    trend,
)
