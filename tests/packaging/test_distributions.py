"""What gets shipped: the sdist, the wheel (and so the image) carry the schema as a real file.

The package once reached its schema through a symlink out of the package, so an image that
copied only `naftiko_runtime/` failed every start with FileNotFoundError.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import CAPABILITIES, ROOT

SCHEMA = "naftiko-1.0.0-alpha2.json"
PACKAGED = ROOT / "naftiko_runtime" / "schemas" / SCHEMA


def test_no_file_in_the_package_is_a_symlink() -> None:
    links = [str(p.relative_to(ROOT)) for p in (ROOT / "naftiko_runtime").rglob("*") if p.is_symlink()]
    assert links == []


def test_the_top_level_schema_is_the_packaged_one_byte_for_byte() -> None:
    # naftiko_runtime/schemas/ is the source of truth; schemas/ is the copy editors point at.
    assert PACKAGED.is_file() and not PACKAGED.is_symlink()
    assert (ROOT / "schemas" / SCHEMA).read_bytes() == PACKAGED.read_bytes(), (
        f"cp {PACKAGED.relative_to(ROOT)} schemas/{SCHEMA}"
    )


def _export(target: Path) -> Path:
    """The files git tracks (or would track), as a clean checkout has them; symlinks stay symlinks."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest, follow_symlinks=False)
    return target


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_sdist_and_the_wheel_carry_the_schema_and_the_installed_wheel_loads_a_capability(tmp_path: Path) -> None:
    pytest.importorskip("build")
    source = _export(tmp_path / "export")
    dist = tmp_path / "dist"
    # sdist first, then the wheel built from the unpacked sdist (what `python -m build` does)
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
                   check=True, capture_output=True, timeout=240)
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    assert members[f"naftiko_runtime/schemas/{SCHEMA}"].isfile()
    assert not any(m.issym() or m.islnk() for m in members.values())
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read(f"naftiko_runtime/schemas/{SCHEMA}") == PACKAGED.read_bytes()
        assert any(n.startswith("naftiko_runtime/engine/fixtures/") for n in zf.namelist())
        assert not [n for n in zf.namelist() if n.startswith(("benchmarks/", "tests/", "naftiko_runtime/bench/"))]

    # A fresh venv with the wheel alone; its dependencies come from this test's venv (a .pth after the
    # venv's own site-packages, so the wheel's copy of naftiko_runtime is the one imported).
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "zz-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=120)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NAFTIKO_", "PYTHON"))}
    where = subprocess.run([str(python), "-c", "import naftiko_runtime; print(naftiko_runtime.__file__)"],
                           cwd=tmp_path, env=clean, check=True, capture_output=True, text=True).stdout
    assert where.startswith(purelib), where
    capability = CAPABILITIES / "humanitec-pipelineruns.yaml"
    result = subprocess.run([str(env_dir / "bin" / "naftiko"), "validate", str(capability)],
                            check=False, cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
