"""Pipeline criteria: which pipeline a ``deployment_request`` starts."""

from __future__ import annotations

import uuid
from typing import Any

from .errors import BadRequest, Conflict, NotFound, Unprocessable
from .guards import check_id
from .model import Criteria
from .store import Store


class CriteriaRules:
    """The criteria part of the ``Engine`` (mixed into it; ``get_pipeline`` comes from ``Pipelines``)."""

    store: Store

    async def create_criteria(self, org_id: str, app_id: str, pipeline_id: str, body: Any,
                              allow_existing: bool = False) -> Criteria:
        pipeline = self.get_pipeline(org_id, app_id, pipeline_id)
        if not isinstance(body, dict):
            raise Unprocessable("the criteria body must be a JSON object")
        if body.get("trigger") != "deployment_request":
            raise BadRequest("criteria 'trigger' must be 'deployment_request'")
        if "deployment_request" not in pipeline.trigger_types:
            raise BadRequest(f"pipeline {pipeline_id!r} has no deployment_request trigger")
        dtype = body.get("deployment_type")
        if dtype is not None and _deployment_type(dtype) is None:
            raise BadRequest("deployment_type must be 'deploy' or 'redeploy'")
        crit = Criteria(id=str(uuid.uuid4()), org_id=org_id, app_id=app_id, pipeline_id=pipeline_id,
                        env_type=body.get("env_type"), match_app_id=body.get("app_id"), env_id=body.get("env_id"),
                        deployment_type=_deployment_type(dtype) if dtype else None)
        for other in self.list_criteria(org_id, app_id):
            if _criteria_key(other) == _criteria_key(crit):
                if allow_existing and other.pipeline_id == pipeline_id:
                    return other
                raise Conflict(f"criteria clash with {other.id} of pipeline {other.pipeline_id!r}")
        await self.store.save_criteria(crit)
        return crit

    def list_criteria(self, org_id: str, app_id: str, pipeline_id: str | None = None) -> list[Criteria]:
        check_id("org id", org_id)
        check_id("app id", app_id)
        return sorted((c for c in self.store.criteria.values() if (c.org_id, c.app_id) == (org_id, app_id)
                       and (pipeline_id is None or c.pipeline_id == pipeline_id)), key=lambda c: c.created_at)

    def get_criteria(self, org_id: str, app_id: str, pipeline_id: str, criteria_id: str) -> Criteria:
        self.get_pipeline(org_id, app_id, pipeline_id)
        crit = self.store.criteria.get(criteria_id)
        if crit is None or (crit.org_id, crit.app_id, crit.pipeline_id) != (org_id, app_id, pipeline_id):
            raise NotFound(f"criteria {criteria_id!r} not found")
        return crit

    async def delete_criteria(self, org_id: str, app_id: str, pipeline_id: str, criteria_id: str) -> None:
        self.get_criteria(org_id, app_id, pipeline_id, criteria_id)
        await self.store.delete_criteria(criteria_id)

    def _match_criteria(self, org_id: str, app_id: str, env_id: str, dtype: str) -> Criteria:
        best: tuple[int, Criteria] | None = None
        for crit in self.list_criteria(org_id, app_id):
            if crit.trigger != "deployment_request":
                continue
            if crit.deployment_type and crit.deployment_type != dtype:
                continue
            if crit.match_app_id and crit.match_app_id != app_id:
                continue
            if crit.env_id and crit.env_id != env_id:
                continue
            # Locally an environment's type is its id (development, staging, production…).
            if crit.env_type not in (None, "*") and crit.env_type != env_id:
                continue
            score = (4 if crit.env_id else 0) + (2 if crit.env_type not in (None, "*") else 0) \
                + (1 if crit.deployment_type else 0)
            if best is None or score > best[0]:
                best = (score, crit)
        if best is None:
            raise NotFound(f"no pipeline criteria in app {app_id!r} match a {dtype} request for environment {env_id!r}")
        return best[1]


def _deployment_type(value: Any) -> str | None:
    return {"deploy": "deploy", "redeploy": "redeploy", "re-deploy": "redeploy"}.get(str(value))


def _criteria_key(c: Criteria) -> tuple[Any, ...]:
    return (c.trigger, c.env_type or "*", c.match_app_id, c.env_id, c.deployment_type)
