"""Headless Debian Chromium driven by Selenium, for the browser test and the README's screenshots.

Selenium is given Debian's chromedriver and chromium explicitly, so it never tries to
download a browser or a driver (this machine's network reaches package registries only).
The flags are those that keep Chromium from calling home at start-up.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = os.environ.get("HOPTRACE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HOPTRACE_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
         "--disable-default-apps", "--lang=en-GB", "--hide-scrollbars")
EXCEPTION_BOX = '[data-testid="stException"]'
RUNNING = '[data-testid="stStatusWidget"]'
CHART = "[data-testid='stVegaLiteChart']"
SKELETON = '[data-testid="stSkeleton"]'  # an element whose code is still loading (Streamlit loads it lazily)
CHART_DRAWN = f"{CHART} canvas, {CHART} svg"
T = TypeVar("T")


def missing() -> str | None:
    """What is not installed (None when both are there): `.ci/run` installs Debian's chromium and chromium-driver."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() or shutil.which(path)):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    return None


@contextmanager
def chromium(width: int = 1500, height: int = 1000) -> Iterator[WebDriver]:
    profile = tempfile.mkdtemp(prefix="hoptrace-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(driver: WebDriver, condition: Callable[[WebDriver], T], what: str, timeout: float = 60.0) -> T:
    """Poll `condition` until it returns something truthy and return that. A page Streamlit is re-rendering may
    replace elements while they are read (stale): that counts as "not yet", never as a failure."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition(driver)
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}; the page shows:\n"
                               f"{driver.find_element(By.TAG_NAME, 'body').text}")
        time.sleep(0.2)


def idle(driver: WebDriver) -> bool:
    """Streamlit has finished running the page's script."""
    return not driver.find_elements(By.CSS_SELECTOR, RUNNING)


def wait_for_text(driver: WebDriver, text: str, timeout: float = 60.0) -> None:
    """Wait until the page shows `text` and Streamlit has finished running the script."""
    wait_until(driver, lambda d: text in d.find_element(By.TAG_NAME, "body").text and idle(d), repr(text), timeout)


def charts_drawn(driver: WebDriver) -> bool:
    """Every chart on the page has drawn (true on a page without charts)."""
    return all(chart.find_elements(By.CSS_SELECTOR, "canvas, svg")
               for chart in driver.find_elements(By.CSS_SELECTOR, CHART))


def wait_for_charts(driver: WebDriver, timeout: float = 60.0) -> list[Any]:
    """Charts draw after the script run ends: wait until at least one has drawn its canvas or SVG."""
    return wait_until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, CHART_DRAWN), "a drawn chart", timeout)


def exceptions(driver: WebDriver) -> list[str]:
    return [box.text for box in driver.find_elements(By.CSS_SELECTOR, EXCEPTION_BOX)]


def full_page_screenshot(driver: WebDriver, path: Path, width: int = 1500, max_height: int = 4200) -> None:
    """Resize the window to the page's height first: a headless window shows only what fits in it. The page
    grows as its charts draw and lazily loaded elements arrive, so it is measured again until it holds still."""
    target = 0
    for _ in range(5):
        height = driver.execute_script(
            "const main = document.querySelector('[data-testid=\"stMain\"]');"
            "return Math.max(main ? main.scrollHeight : 0, document.body.scrollHeight);")
        wanted = min(max(int(height) + 60, 800), max_height)
        if wanted <= target:
            break
        target = wanted
        driver.set_window_size(width, target)
        wait_until(driver, lambda d, t=target: d.get_window_size()["height"] == t and idle(d), "the resized window")
        wait_until(driver, charts_drawn, "every chart drawn")
        wait_until(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, SKELETON), "every element loaded")
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
