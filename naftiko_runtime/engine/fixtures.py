"""Pipelines (and criteria) loaded from a directory: ``<dir>/<org>/<app>/*.yaml``."""

from __future__ import annotations

import logging
from pathlib import Path

from .pipeline_yaml import load_yaml

log = logging.getLogger(__name__)

FIXTURES_DIR = Path(__file__).parent / "fixtures"
CRITERIA_FILE = "criteria.yaml"


class Fixtures:
    """Loading file pipelines (mixed into the ``Engine``; uses ``put_pipeline`` and ``create_criteria``)."""

    pipelines_dir: Path

    async def load_fixtures(self) -> None:
        """Load ``<dir>/<org>/<app>/*.yaml`` pipelines (and ``criteria.yaml``) as file pipelines."""
        root = self.pipelines_dir
        if not root.is_dir():
            return
        for org_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for app_dir in sorted(p for p in org_dir.iterdir() if p.is_dir()):
                org_id, app_id = org_dir.name, app_dir.name
                for path in sorted(list(app_dir.glob("*.yaml")) + list(app_dir.glob("*.yml"))):
                    if path.name == CRITERIA_FILE:
                        continue
                    try:
                        await self.put_pipeline(org_id, app_id, path.read_text(), default_id=path.stem, source="file")
                    except Exception as exc:
                        log.warning("skipping pipeline file %s: %s", path, exc)
                crit = app_dir / CRITERIA_FILE
                if crit.exists():
                    for item in load_yaml(crit.read_text()) or []:
                        item = dict(item)
                        pid = str(item.pop("pipeline"))
                        try:
                            await self.create_criteria(org_id, app_id, pid, item, allow_existing=True)
                        except Exception as exc:
                            log.warning("skipping criteria in %s: %s", crit, exc)
