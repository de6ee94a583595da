"""Label keys and project labels."""

from __future__ import annotations

import re
from typing import Any

from .core import SimulatorCore, locked
from .errors import ApiError, conflict, invalid, not_found
from .models import LabelKey
from .render import label_json

LABEL_PATTERN = re.compile(r"[^\s'\";\\%]+")
MAX_LABEL_KEYS = 100
MAX_PROJECT_LABELS = 30
MAX_ORG_LABEL_PAIRS = 500


class LabelOps(SimulatorCore):
    """Label operations of the simulator."""

    @locked
    def list_label_keys(self) -> list[dict[str, Any]]:
        return [label_json(label) for label in sorted(self.store.labels.values(), key=lambda item: item.id)]

    @locked
    def create_label_keys(self, items: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
        """Add label keys (additive); returns every label key."""
        keys = [key for key, _ in items]
        if len(set(keys)) != len(keys):
            raise invalid("The request contains duplicate label keys.", "value")
        existing = {label.key for label in self.store.labels.values()}
        taken = [key for key in keys if key in existing]
        if taken:
            raise conflict(f"The label key '{taken[0]}' already exists.", target="value")
        if len(self.store.labels) + len(items) > MAX_LABEL_KEYS:
            raise conflict(f"The maximum number of label keys ({MAX_LABEL_KEYS}) would be exceeded.")
        for key, description in items:
            self.add_label_key(key, description)
        return self.list_label_keys()

    def add_label_key(self, key: str, description: str | None = None) -> LabelKey:
        label = LabelKey(self.store.new_id("labels", 1), key, description)
        self.store.labels[label.id] = label
        return label

    @locked
    def update_label_key(self, label_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        label = self._label(label_id)
        new_key = changes.get("key")
        if new_key is not None and new_key != label.key:
            if any(other.key == new_key for other in self.store.labels.values()):
                raise conflict(f"A label key named '{new_key}' already exists.", target="key")
            label.key = new_key
        if "description" in changes:
            label.description = changes["description"]
        return label_json(label)

    @locked
    def delete_label_key(self, label_id: int) -> None:
        """Delete a label key and, by cascade, every project label using it."""
        self._label(label_id)
        del self.store.labels[label_id]
        for labels in self.store.project_labels.values():
            labels.pop(label_id, None)

    @locked
    def project_labels(self, project_id: int) -> list[dict[str, str]]:
        self.project_record(project_id)
        labels = self.store.project_labels[project_id]
        return [{"key": self.store.labels[key_id].key, "value": value} for key_id, value in sorted(labels.items())]

    @locked
    def replace_project_labels(
        self, project_id: int, items: list[tuple[int | None, str | None, str]]
    ) -> list[dict[str, Any]]:
        """Replace a project's labels; each item names its key by id or by name."""
        self.project_record(project_id)
        if len(items) > MAX_PROJECT_LABELS:
            raise conflict(f"A project may have at most {MAX_PROJECT_LABELS} labels.")
        resolved: dict[int, str] = {}
        for index, (key_id, key, value) in enumerate(items):
            label = self._resolve_label(key_id, key, f"value[{index}]")
            if label.id in resolved:
                raise invalid(f"The label key '{label.key}' appears more than once.", f"value[{index}]")
            resolved[label.id] = value
        self._check_org_pairs(project_id, resolved)
        self.store.project_labels[project_id] = resolved
        return [
            {"key_id": key_id, "key": self.store.labels[key_id].key, "value": value}
            for key_id, value in resolved.items()
        ]

    @locked
    def delete_project_label(self, project_id: int, key: str) -> None:
        self.project_record(project_id)
        labels = self.store.project_labels[project_id]
        for key_id in list(labels):
            if self.store.labels[key_id].key == key:
                del labels[key_id]
                return
        raise ApiError(404, f"Project {project_id} has no label '{key}'.", target="key")

    def _label(self, label_id: int) -> LabelKey:
        label = self.store.labels.get(label_id)
        if label is None:
            raise not_found("Label key", label_id)
        return label

    def _resolve_label(self, key_id: int | None, key: str | None, target: str) -> LabelKey:
        if key_id is not None:
            label = self.store.labels.get(key_id)
            if label is None or (key is not None and label.key != key):
                raise invalid(f"Unknown label key id {key_id}.", f"{target}.key_id")
            return label
        for label in self.store.labels.values():
            if label.key == key:
                return label
        raise invalid(f"Unknown label key '{key}'.", f"{target}.key")

    def _check_org_pairs(self, project_id: int, new_labels: dict[int, str]) -> None:
        pairs = {
            (key_id, value)
            for pid, labels in self.store.project_labels.items()
            if pid != project_id
            for key_id, value in labels.items()
        }
        pairs |= set(new_labels.items())
        if len(pairs) > MAX_ORG_LABEL_PAIRS:
            raise conflict(f"The maximum number of unique label pairs ({MAX_ORG_LABEL_PAIRS}) would be exceeded.")
