"""The web app in a real browser: headless Chromium driven by Selenium, against a live server.

Needs Debian's ``chromium`` and ``chromium-driver`` packages (``apt-get install chromium
chromium-driver``); skipped, saying so, where they are missing. Writes docs/screenshots/story.png.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .test_web import ALBANIAN_SAMPLE, ARABIC_SAMPLE, sample_site

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "screenshots" / "story.png"
# Flags for a quiet, offline, reproducible headless browser in a container.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
    "--lang=en",
)
WAIT_SECONDS = 60  # the first story page analyses the story: seconds on two busy cores

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Chromium is not installed: apt-get install chromium chromium-driver",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The app on a free local port, and the stored id of each sample article by file name."""
    site = sample_site(tmp_path_factory, "browser")
    live: BaseWSGIServer = make_server("127.0.0.1", 0, site.app, threaded=True)
    thread = threading.Thread(target=live.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{live.port}", site.ids
    live.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="storyweave-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
        driver.set_page_load_timeout(WAIT_SECONDS)
        try:
            yield driver
        finally:
            driver.quit()


def _story_id_of(base: str, browser: Any, article_id: str) -> str:
    browser.get(f"{base}/articles/{article_id}")
    link = browser.find_element(By.CSS_SELECTOR, ".crumb a")
    return str(link.get_attribute("href")).rsplit("/", 1)[1]


def test_story_page_from_the_story_list(server: tuple[str, dict[str, str]], browser: Any) -> None:
    base, ids = server
    story_id = _story_id_of(base, browser, ids[ALBANIAN_SAMPLE])
    browser.get(f"{base}/stories")
    browser.find_element(By.CSS_SELECTOR, f'a.title[href="/stories/{story_id}"]').click()
    WebDriverWait(browser, WAIT_SECONDS).until(expected_conditions.url_contains(story_id))
    rows = browser.find_elements(By.CSS_SELECTOR, "#articles table tbody tr")
    languages = {h.text.split()[0] for h in browser.find_elements(By.CSS_SELECTOR, "#articles h3")}
    timeline = browser.find_element(By.CSS_SELECTOR, "#timeline svg")
    assert timeline.is_displayed() and timeline.find_elements(By.CSS_SELECTOR, "rect")
    quotes = browser.find_elements(By.CSS_SELECTOR, "#quotes blockquote")
    assert quotes and all(q.is_displayed() and q.text for q in quotes)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    assert (len(rows), languages) == (5, {"ar", "ms", "sq"})


def test_a_citation_opens_the_cited_span(server: tuple[str, dict[str, str]], browser: Any) -> None:
    base, ids = server
    story_id = _story_id_of(base, browser, ids[ALBANIAN_SAMPLE])
    browser.get(f"{base}/stories/{story_id}")
    link = browser.find_element(By.CSS_SELECTOR, "#summary .cite-link")
    fragment = str(link.get_attribute("href")).split("#", 1)[1]
    link.click()
    WebDriverWait(browser, WAIT_SECONDS).until(expected_conditions.url_contains("/articles/"))
    target = browser.execute_script("const t = document.querySelector(':target'); return t && t.id;")
    assert target == fragment
    highlighted = browser.find_element(By.ID, fragment).value_of_css_property("background-color")
    assert highlighted not in ("rgba(0, 0, 0, 0)", "transparent")


def test_an_english_query_finds_arabic_and_albanian_articles(server: tuple[str, dict[str, str]], browser: Any) -> None:
    base, ids = server
    browser.get(f"{base}/stories")
    box = browser.find_element(By.CSS_SELECTOR, "header form.search input[name=q]")
    box.send_keys("Kim Putin meeting")
    box.submit()
    WebDriverWait(browser, WAIT_SECONDS).until(expected_conditions.presence_of_element_located((By.ID, "semantic")))
    found = {
        str(a.get_attribute("href")).rsplit("/", 1)[1]
        for a in browser.find_elements(By.CSS_SELECTOR, "#semantic ul.hits a")
    }
    assert {ids[ALBANIAN_SAMPLE], ids[ARABIC_SAMPLE]} <= found


def test_script_in_an_article_is_shown_not_run(server: tuple[str, dict[str, str]], browser: Any) -> None:
    base, ids = server
    browser.get(f"{base}/articles/{ids['hostile.txt']}")
    body = browser.find_element(By.CSS_SELECTOR, ".body").text
    assert '<script>window.__pwned = 1; alert("pwned")</script>' in body
    assert "<img src=x onerror=" in body
    assert "<script>" in browser.find_element(By.TAG_NAME, "h1").text
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.accept()
    assert browser.execute_script("return window.__pwned === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img")
