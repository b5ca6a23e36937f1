"""The rules' tests: services and timed jobs called directly, on a database copied from the migrated template."""

from tests.station_db import request_db, station_db  # noqa: F401  (fixtures for every test here)
