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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
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


def wait_for_text(driver: WebDriver, text: str, timeout: float = 30.0) -> None:
    """Wait until the page shows `text` and Streamlit has finished running the script."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = driver.find_element(By.TAG_NAME, "body").text
        if text in body and not driver.find_elements(By.CSS_SELECTOR, RUNNING):
            time.sleep(0.5)  # charts draw after the script run ends
            return
        time.sleep(0.25)
    raise TimeoutError(f"the page never showed {text!r}; it shows:\n{driver.find_element(By.TAG_NAME, 'body').text}")


def exceptions(driver: WebDriver) -> list[str]:
    return [box.text for box in driver.find_elements(By.CSS_SELECTOR, EXCEPTION_BOX)]


def full_page_screenshot(driver: WebDriver, path: Path, width: int = 1500, max_height: int = 4200) -> None:
    """Resize the window to the page's height first: a headless window shows only what fits in it."""
    height = driver.execute_script(
        "const main = document.querySelector('[data-testid=\"stMain\"]');"
        "return Math.max(main ? main.scrollHeight : 0, document.body.scrollHeight);")
    driver.set_window_size(width, min(max(int(height) + 60, 800), max_height))
    time.sleep(1.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
