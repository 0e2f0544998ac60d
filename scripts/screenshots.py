"""Take the README's screenshots of the engine page: ``python scripts/screenshots.py [OUT_DIR]``.

Starts the engine in-process on a free loopback port with the demo fixtures, makes a few runs
(``ci`` succeeds, ``broken`` fails, a ``release`` to qa approved, one to staging waiting), and
photographs each page with Debian's headless chromium (``apt-get install chromium
chromium-driver``; nothing is downloaded). Writes ``docs/engine-ui-*.png`` by default.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from naftiko_runtime.engine import start_engine

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1200,800")


def post(url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def until(predicate, what: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


def state(base: str, run_id: str) -> str:
    html = get(f"{base}/ui/live/runs/{run_id}")["html"]
    return html.split('id="run-status" data-state="', 1)[1].split('"', 1)[0]


def approval_of(base: str, run_id: str) -> str | None:
    html = get(f"{base}/ui/live/runs/{run_id}")["html"]
    marker = f"/ui/runs/{run_id}/approvals/"
    return html.split(marker, 1)[1].split("/", 1)[0] if marker in html else None


def make_runs(base: str) -> dict[str, str]:
    pipelines = f"{base}/ui/pipelines/demo-org/demo-app"
    runs = {"ci": post(f"{pipelines}/ci/runs", {"inputs": {"ref": "feature/page"}})["run_id"]}
    runs["broken"] = post(f"{pipelines}/broken/runs", {"inputs": {}})["run_id"]
    runs["qa"] = post(f"{pipelines}/release/runs", {"inputs": {"env_id": "qa"}})["run_id"]
    approval = until(lambda: approval_of(base, runs["qa"]), "the qa release to wait for approval")
    post(f"{base}/ui/runs/{runs['qa']}/approvals/{approval}/approve")
    runs["staging"] = post(f"{pipelines}/release/runs", {"inputs": {"env_id": "staging"}})["run_id"]
    until(lambda: approval_of(base, runs["staging"]), "the staging release to wait for approval")
    for key in ("ci", "broken", "qa"):
        run_id = runs[key]
        until(lambda run_id=run_id: state(base, run_id) in ("succeeded", "failed"), f"the {key} run to finish")
    return runs


LIVE_DONE = "return [...document.querySelectorAll('[data-live]')].every((e) => e.dataset.sig)"


def viewport(driver: webdriver.Chrome, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1200, "height": height, "deviceScaleFactor": 1, "mobile": False})


def shoot(driver: webdriver.Chrome, url: str, out: Path) -> None:
    viewport(driver, 800)
    driver.get(url)
    until(lambda: driver.execute_script(LIVE_DONE), "the live regions to poll once")  # the page as a reader sees it
    height = int(driver.execute_script("return document.querySelector('main').getBoundingClientRect().bottom"))
    viewport(driver, max(360, min(height, 2400)))
    driver.save_screenshot(str(out))
    print(f"wrote {out}")


def main() -> None:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    out_dir.mkdir(parents=True, exist_ok=True)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    handle = asyncio.run_coroutine_threadsafe(start_engine(port=0, db=":memory:"), loop).result(30)
    try:
        runs = make_runs(handle.url)
        with tempfile.TemporaryDirectory() as profile:
            options = webdriver.ChromeOptions()
            options.binary_location = "/usr/bin/chromium"
            for flag in (*FLAGS, f"--user-data-dir={profile}"):
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
            try:
                shoot(driver, f"{handle.url}/ui", out_dir / "engine-ui-pipelines.png")
                shoot(driver, f"{handle.url}/ui/pipelines/demo-org/demo-app/release", out_dir / "engine-ui-pipeline.png")
                shoot(driver, f"{handle.url}/ui/runs/{runs['ci']}", out_dir / "engine-ui-run.png")
                shoot(driver, f"{handle.url}/ui/runs/{runs['staging']}", out_dir / "engine-ui-run-waiting.png")
                shoot(driver, f"{handle.url}/ui/approvals", out_dir / "engine-ui-approvals.png")
            finally:
                driver.quit()
    finally:
        asyncio.run_coroutine_threadsafe(handle.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)


if __name__ == "__main__":
    main()
