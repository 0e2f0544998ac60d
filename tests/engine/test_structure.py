"""The engine's own rule beyond the house rules (tests/house/test_structure.py: module size, no
import cycle, nothing imported from the runtime above it): step actions reach the engine through
their narrow `StepHost`, never the executor or the service.
"""

from __future__ import annotations

from tests.support.imports import PKG, graph

ENGINE = f"{PKG}.engine"


def test_actions_do_not_import_the_executor_or_the_service() -> None:
    for module, deps in graph().items():
        if module.startswith(f"{ENGINE}.actions"):
            assert not deps & {f"{ENGINE}.executor", f"{ENGINE}.service"}, module
