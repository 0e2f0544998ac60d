"""Pipelines and their versions: create/update from YAML, look up, list, delete."""

from __future__ import annotations

import re
import uuid

from . import events
from .errors import BadRequest, Conflict, NotFound, PreconditionFailed
from .events import EventBus
from .guards import check_id, etag_matches
from .model import Pipeline, PipelineVersion
from .pipeline_yaml import PipelineDef, parse_pipeline
from .store import Store


class Pipelines:
    """The pipeline half of the ``Engine`` (mixed into it)."""

    store: Store
    bus: EventBus
    _definitions: dict[str, PipelineDef]

    def definition(self, pipeline: Pipeline, version: str | None = None) -> PipelineDef:
        vid = version or pipeline.version
        if vid not in self._definitions:
            text = pipeline.definition
            if version and version != pipeline.version:
                text = self.get_version(pipeline, version).definition
            self._definitions[vid] = parse_pipeline(text)
        return self._definitions[vid]

    def get_pipeline(self, org_id: str, app_id: str, pipeline_id: str) -> Pipeline:
        check_id("org id", org_id)
        check_id("app id", app_id)
        pipeline = self.store.pipelines.get((org_id, app_id, pipeline_id))
        if pipeline is None:
            raise NotFound(f"pipeline {pipeline_id!r} not found in app {app_id!r} of org {org_id!r}")
        return pipeline

    def get_version(self, pipeline: Pipeline, version_id: str) -> PipelineVersion:
        for version in self.store.versions.get((pipeline.org_id, pipeline.app_id, pipeline.id), []):
            if version.id == version_id:
                return version
        raise NotFound(f"version {version_id!r} of pipeline {pipeline.id!r} not found")

    def list_versions(self, pipeline: Pipeline) -> list[PipelineVersion]:
        return list(reversed(self.store.versions.get((pipeline.org_id, pipeline.app_id, pipeline.id), [])))

    def list_pipelines(self, org_id: str, app_ids: list[str] | None = None, trigger: str | None = None,
                       metadata: dict[str, str] | None = None) -> list[Pipeline]:
        check_id("org id", org_id)
        out = []
        for (o, a, _), p in self.store.pipelines.items():
            if o != org_id or (app_ids and a not in app_ids) or (trigger and trigger not in p.trigger_types):
                continue
            if metadata and any(p.metadata.get(k) != v for k, v in metadata.items()):
                continue
            out.append(p)
        return sorted(out, key=lambda p: (p.app_id, p.created_at, p.id))

    async def put_pipeline(self, org_id: str, app_id: str, text: str, *, default_id: str | None = None,
                           source: str = "api", dry_run: bool = False, create_only: bool = False,
                           pipeline_id: str | None = None, if_match: str | None = None) -> Pipeline | None:
        """Create or update a pipeline from YAML text; a changed definition makes a new version."""
        check_id("org id", org_id)
        check_id("app id", app_id)
        defn = parse_pipeline(text)
        pid = pipeline_id or defn.id or default_id or _slug(defn.name)
        if pipeline_id and defn.id and defn.id != pipeline_id:
            raise BadRequest(f"the definition's id {defn.id!r} does not match the pipeline {pipeline_id!r}")
        existing = self.store.pipelines.get((org_id, app_id, pid))
        if create_only and existing is not None:
            raise Conflict(f"pipeline {pid!r} already exists in app {app_id!r}")
        if pipeline_id and existing is None:
            raise NotFound(f"pipeline {pipeline_id!r} not found in app {app_id!r} of org {org_id!r}")
        if existing is not None and not etag_matches(if_match, existing.etag):
            raise PreconditionFailed(f"pipeline {pid!r} has changed (ETag {existing.etag})")
        if dry_run:
            return None
        if existing is not None and existing.definition == text and existing.source == source:
            return existing
        version = PipelineVersion(id=str(uuid.uuid4()), org_id=org_id, app_id=app_id, pipeline_id=pid, definition=text)
        self._definitions[version.id] = defn
        if existing is None:
            pipeline = Pipeline(org_id=org_id, app_id=app_id, id=pid, name=defn.name, version=version.id,
                                definition=text, trigger_types=defn.trigger_types, metadata=defn.metadata,
                                source=source)
        else:
            pipeline = existing
            pipeline.name, pipeline.version, pipeline.definition = defn.name, version.id, text
            pipeline.trigger_types, pipeline.metadata, pipeline.source = defn.trigger_types, defn.metadata, source
            pipeline.revision += 1
        await self.store.save_pipeline(pipeline, version)
        self.bus.publish(events.PIPELINE_CHANGED, {"org_id": org_id, "app_id": app_id, "pipeline_id": pid})
        return pipeline

    async def delete_pipeline(self, org_id: str, app_id: str, pipeline_id: str, if_match: str | None = None) -> None:
        pipeline = self.get_pipeline(org_id, app_id, pipeline_id)
        if not etag_matches(if_match, pipeline.etag):
            raise PreconditionFailed(f"pipeline {pipeline_id!r} has changed (ETag {pipeline.etag})")
        runs = [r for r in self.store.runs.values()
                if (r.org_id, r.app_id, r.pipeline_id) == (org_id, app_id, pipeline_id)]
        if any(not r.terminal for r in runs):
            raise Conflict(f"pipeline {pipeline_id!r} has active runs; cancel them first")
        for run in runs:
            await self.store.delete_run(run.id)
        for crit in [c for c in self.store.criteria.values() if (c.org_id, c.app_id, c.pipeline_id) ==
                     (org_id, app_id, pipeline_id)]:
            await self.store.delete_criteria(crit.id)
        await self.store.delete_pipeline(org_id, app_id, pipeline_id)
        self.bus.publish(events.PIPELINE_CHANGED, {"org_id": org_id, "app_id": app_id, "pipeline_id": pipeline_id,
                                                   "deleted": True})


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:50] or str(uuid.uuid4())
