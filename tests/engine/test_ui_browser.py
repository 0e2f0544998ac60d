"""The engine page in a real browser: Debian's headless chromium, driven through chromedriver.

Load the page, run ``ci`` and watch it succeed with its logs, run the gated ``release`` and
approve it from the page. The engine runs in-process (its own loop in a thread, since
selenium blocks) on a loopback port 0. Skipped, saying why, when chromium is not installed
(``.ci/run`` installs it).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from naftiko_runtime.engine import EngineHandle, start_engine

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                       reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"),
]

WAIT = 20  # seconds; generous because the machine is shared


class ThreadedEngine:
    """The engine on its own event loop in a daemon thread (selenium's calls block)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.handle: EngineHandle = self._call(start_engine(port=0, db=":memory:"))

    def _call(self, coro):  # type: ignore[no-untyped-def]
        future: Future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=30)

    def close(self) -> None:
        self._call(self.handle.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def chromium(user_data_dir: Path):  # type: ignore[no-untyped-def]
    """A headless chromium from the system packages; nothing is downloaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900", f"--user-data-dir={user_data_dir}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.fixture
def engine_url() -> Iterator[str]:
    engine = ThreadedEngine()
    try:
        yield engine.handle.url
    finally:
        engine.close()


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    pytest.importorskip("selenium", reason="selenium is a test dependency: pip install -e '.[test]'")
    driver = chromium(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver):  # type: ignore[no-untyped-def]
    """A wait that rereads elements a live region replaced under it."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))


def _row(driver, selector: str, attribute: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The first matching row's ``attribute`` and text, read together."""
    from selenium.webdriver.common.by import By

    row = driver.find_element(By.CSS_SELECTOR, selector)
    return row.get_attribute(attribute), row.text


def _run_state(driver) -> str:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "run-status").get_attribute("data-state")


def test_run_a_pipeline_and_approve_a_gated_one(engine_url: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    wait = _wait(browser)
    browser.get(engine_url + "/ui")
    assert browser.title.startswith("Pipelines")
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td a.name")]
    assert {"CI", "Release", "Broken"} <= set(names)

    # Run `ci` from the list: the page moves to the run, whose status and logs update live.
    browser.find_element(By.CSS_SELECTOR, 'button[data-test="run-ci"]').click()
    wait.until(lambda d: "/ui/runs/" in d.current_url)
    wait.until(lambda d: _run_state(d) == "succeeded")
    logs = wait.until(lambda d: "\n".join(p.text for p in d.find_elements(By.CSS_SELECTOR, "pre.log")))
    assert "linting main" in logs and "lint ok" in logs and "test 3 passed" in logs
    states = wait.until(lambda d: [s.get_attribute("data-state") for s in d.find_elements(By.CSS_SELECTOR, "details.step")])
    assert set(states) == {"succeeded"} and len(states) == 5

    # The run is listed, succeeded, on the pipelines page.
    browser.get(engine_url + "/ui")
    row = wait.until(lambda d: _row(d, "tr.run", "data-state"))
    assert row[0] == "succeeded" and "ci" in row[1]

    # Run `release` with an input from its own page; it waits for approval; approve it there.
    browser.get(engine_url + "/ui/pipelines/demo-org/demo-app/release")
    field = browser.find_element(By.CSS_SELECTOR, 'input[name="env_id"]')
    field.send_keys("qa")
    browser.find_element(By.CSS_SELECTOR, 'form.trigger button[type="submit"]').click()
    wait.until(lambda d: "/ui/runs/" in d.current_url)
    wait.until(lambda d: _run_state(d) == "waiting")
    wait.until(lambda d: "Release to qa?" in d.find_element(By.CSS_SELECTOR, ".approval").text)
    assert browser.find_element(By.ID, "waiting-count").text == "1"
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'button[data-test="approve"]').click() or True)
    wait.until(lambda d: _run_state(d) == "succeeded")
    wait.until(lambda d: "approved by engine-page" in d.find_element(By.CSS_SELECTOR, "pre.log").text)
    assert not browser.find_elements(By.CSS_SELECTOR, 'button[data-test="approve"]')
    wait.until(lambda d: not d.find_element(By.ID, "waiting-count").is_displayed())

    # The approvals page lists it as approved, with no buttons left.
    browser.get(engine_url + "/ui/approvals")
    row = wait.until(lambda d: _row(d, "tr[data-approval]", "data-status"))
    assert row[0] == "approved" and "qa" in row[1]

    # Nothing the page did broke its Content-Security-Policy or threw.
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def test_deny_from_the_approvals_page_fails_the_run(engine_url: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    wait = _wait(browser)
    browser.get(engine_url + "/ui/approvals")
    assert "No approvals requested yet" in browser.page_source
    browser.get(engine_url + "/ui")
    browser.find_element(By.CSS_SELECTOR, 'button[data-test="run-release"]').click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'button[data-test="deny"]'))
    run_url = browser.current_url
    browser.get(engine_url + "/ui/approvals")
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'button[data-test="deny"]').click() or True)
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "tr[data-approval]").get_attribute("data-status")
               == "denied")
    browser.get(run_url)
    wait.until(lambda d: _run_state(d) == "failed")
