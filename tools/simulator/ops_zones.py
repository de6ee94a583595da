"""Load zones and which projects may use the private ones."""

from __future__ import annotations

from typing import Any

from .core import SimulatorCore, locked
from .errors import ApiError, invalid, not_found
from .models import LoadZone
from .render import load_zone_json

PUBLIC_ZONES: tuple[tuple[str, str], ...] = (
    ("amazon:us:ashburn", "US East (N. Virginia)"),
    ("amazon:us:columbus", "US East (Ohio)"),
    ("amazon:us:palo alto", "US West (N. California)"),
    ("amazon:us:portland", "US West (Oregon)"),
    ("amazon:ca:montreal", "Canada (Montreal)"),
    ("amazon:br:sao paulo", "South America (São Paulo)"),
    ("amazon:ie:dublin", "EU (Ireland)"),
    ("amazon:de:frankfurt", "EU (Frankfurt)"),
    ("amazon:gb:london", "EU (London)"),
    ("amazon:fr:paris", "EU (Paris)"),
    ("amazon:se:stockholm", "EU (Stockholm)"),
    ("amazon:it:milan", "EU (Milan)"),
    ("amazon:in:mumbai", "Asia Pacific (Mumbai)"),
    ("amazon:sg:singapore", "Asia Pacific (Singapore)"),
    ("amazon:kr:seoul", "Asia Pacific (Seoul)"),
    ("amazon:jp:tokyo", "Asia Pacific (Tokyo)"),
    ("amazon:jp:osaka", "Asia Pacific (Osaka)"),
    ("amazon:au:sydney", "Asia Pacific (Sydney)"),
    ("amazon:cn:hong kong", "Asia Pacific (Hong Kong)"),
    ("amazon:sa:cape town", "Africa (Cape Town)"),
)


class ZoneOps(SimulatorCore):
    """Load zone operations of the simulator."""

    def add_public_zones(self) -> None:
        for index, (zone_id, name) in enumerate(PUBLIC_ZONES, start=1):
            self.store.zones[index] = LoadZone(index, name, zone_id, public=True)

    def add_private_zone(self, zone_id: int, name: str, k6_id: str, image: str, projects: set[int]) -> LoadZone:
        zone = LoadZone(zone_id, name, k6_id, public=False, custom_load_runner_image=image)
        zone.allowed_project_ids = set(projects)
        self.store.zones[zone_id] = zone
        return zone

    @locked
    def list_load_zones(self, k6_load_zone_id: str | None = None) -> list[dict[str, Any]]:
        zones = sorted(self.store.zones.values(), key=lambda zone: zone.id)
        if k6_load_zone_id is not None:
            zones = [zone for zone in zones if zone.k6_load_zone_id == k6_load_zone_id]
        return [load_zone_json(zone) for zone in zones]

    @locked
    def zone_allowed_projects(self, zone_id: int) -> list[dict[str, Any]]:
        zone = self._private_zone(zone_id)
        return [
            {"id": pid, "name": self.store.projects[pid].name}
            for pid in sorted(zone.allowed_project_ids)
            if pid in self.store.projects
        ]

    @locked
    def set_zone_allowed_projects(self, zone_id: int, project_ids: list[int]) -> list[dict[str, Any]]:
        zone = self._private_zone(zone_id)
        for index, pid in enumerate(project_ids):
            if pid not in self.store.projects:
                raise invalid(f"Project {pid} does not exist.", f"value[{index}].id")
        zone.allowed_project_ids = set(project_ids)
        return self.zone_allowed_projects(zone_id)

    @locked
    def project_allowed_zones(self, project_id: int) -> list[dict[str, Any]]:
        self.project_record(project_id)
        zones = [
            zone
            for zone in sorted(self.store.zones.values(), key=lambda item: item.id)
            if not zone.public and project_id in zone.allowed_project_ids
        ]
        return [load_zone_json(zone) for zone in zones]

    @locked
    def set_project_allowed_zones(self, project_id: int, zone_ids: list[int]) -> list[dict[str, Any]]:
        self.project_record(project_id)
        for index, zone_id in enumerate(zone_ids):
            zone = self.store.zones.get(zone_id)
            if zone is None or zone.public:
                raise invalid(f"{zone_id} is not a private load zone.", f"value[{index}].id")
        for zone in self.store.zones.values():
            if not zone.public:
                if zone.id in zone_ids:
                    zone.allowed_project_ids.add(project_id)
                else:
                    zone.allowed_project_ids.discard(project_id)
        return self.project_allowed_zones(project_id)

    def _private_zone(self, zone_id: int) -> LoadZone:
        zone = self.store.zones.get(zone_id)
        if zone is None:
            raise not_found("Load zone", zone_id)
        if zone.public:
            raise ApiError(404, f"Load zone {zone_id} is public; only private load zones have allowed projects.")
        return zone
