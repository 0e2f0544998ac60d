"""Where the shared material and the shipped files are, for tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
CAPABILITIES = ROOT / "capabilities"
CORPUS = SHARED / "corpus"
TUTORIAL = SHARED / "conformance" / "naftiko-tutorial"
SEEDS = SHARED / "seeds"
SHIPPED = sorted(CAPABILITIES.glob("*.yaml"))
#: The three files as generated from the seeds, with the seeds' deviations (the shipped ones are rewritten for agents).
SEEDED_DIR = ROOT / "tests" / "support" / "seeded"
SEEDED = [SEEDED_DIR / n for n in ("humanitec-event.yaml", "humanitec-pipelineruns.yaml", "inngest-runs.yaml")]


def seed_yaml(prefix: str) -> str:
    """The capability YAML inside a seed document (after its 'Raw' header)."""
    text = next(SEEDS.glob(f"{prefix}_*.txt")).read_text()
    return text[text.index("naftiko: 1.0.0-alpha2") :]
