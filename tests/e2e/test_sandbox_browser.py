"""`python -m bot sandbox` in a real browser: Debian's headless chromium, driven by selenium, plays the whole station
on the sandbox's chat page. Screenshots of each step go to test-artifacts/sandbox/ (ignored by git)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "sandbox"
WAIT = 30.0  # the bot answers within a second; generous for a busy machine running the suite on every core


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(path)):
            return f"{path} not found: apt-get install -y chromium chromium-driver (.ci/run installs them)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Wait for a condition (checked ten times a second), failing with `what`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def sandbox(tmp_path) -> Iterator[str]:
    """The sandbox as its users start it, `python -m bot sandbox`, on a free port and a fresh file."""
    port = _free_port()
    log = (tmp_path / "sandbox.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port), "--db", str(tmp_path / "s.sqlite3"), "--reset"],
        cwd=tmp_path,  # no .env of the developer's
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError("the sandbox exited:\n" + (tmp_path / "sandbox.log").read_text())
        try:
            with urllib.request.urlopen(base + "/api/state", timeout=2) as response:
                return bool(json.load(response)["ready"])
        except OSError:
            return False

    try:
        _until(ready, 90, "the sandbox to start")
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        print((tmp_path / "sandbox.log").read_text()[-3000:])


@pytest.fixture
def browser():
    reason = _missing()
    if reason:
        print(f"skipping the browser test: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=zh-CN"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_window_size(1280, 900)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The sandbox page as a person sees it: every step waits for what the page shows, never a fixed time."""

    def __init__(self, driver, base: str) -> None:
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.base, self.By = driver, base, By
        self.ignored = (NoSuchElementException, StaleElementReferenceException)
        self.WebDriverWait = WebDriverWait
        self.shots = 0

    def wait(self, condition: Callable, what: str, timeout: float = WAIT):
        return self.WebDriverWait(self.driver, timeout, ignored_exceptions=self.ignored).until(
            lambda d: condition(), f"waiting for {what}"
        )

    def shot(self, name: str) -> None:
        self.shots += 1
        self.driver.save_screenshot(str(ARTIFACTS / f"{self.shots:02d}-{name}.png"))

    def open(self, persona: str = "resident") -> None:
        self.driver.get(f"{self.base}/#{persona}/private")
        self.wait(lambda: self.driver.find_element(self.By.CSS_SELECTOR, "body[data-ready=yes] .msg"), "the page")

    def be(self, persona: str, chat: str = "private") -> None:
        """Switch persona with the switcher, then pick the chat tab."""
        self.driver.find_element(self.By.CSS_SELECTOR, f'button.persona[data-key="{persona}"]').click()
        self.wait(lambda: persona in self.driver.current_url, f"persona {persona}")
        self.driver.find_element(self.By.ID, f"tab-{chat}").click()
        self.wait(lambda: "active" in self.driver.find_element(self.By.ID, f"tab-{chat}").get_attribute("class"), chat)

    def last_id(self) -> int:
        return int(
            self.driver.execute_script(
                "return Math.max(0, ...[...document.querySelectorAll('.msg')].map(m => +m.dataset.id))"
            )
        )

    def bot_message(self, contains: str = "", after: int = 0, button: str | None = None):
        """The newest bot message (id > after) containing the text (and a button containing `button`)."""

        def find():
            for node in reversed(self.driver.find_elements(self.By.CSS_SELECTOR, ".msg.bot")):
                if int(node.get_attribute("data-id")) <= after or contains not in node.text:
                    continue
                if button is None or self.buttons(node, button):
                    return node
            return None

        return self.wait(find, f"a bot message containing {contains!r}" + (f" with {button!r}" if button else ""))

    def buttons(self, node, text: str) -> list:
        return [b for b in node.find_elements(self.By.CSS_SELECTOR, "button.ibtn") if text in b.text]

    def tap(self, contains: str, button: str, expect: str | None = "", nth: int | None = None):
        """Tap a button of the newest bot message containing `contains` (or its nth button); then wait for a new
        bot message containing `expect` (expect=None: for the tap's answer only)."""
        before = self.last_id()
        self.clear_toast()

        def click() -> bool:
            node = self.bot_message(contains, button=button if nth is None else None)
            found = node.find_elements(self.By.CSS_SELECTOR, "button.ibtn") if nth is not None else None
            (found[nth] if found is not None else self.buttons(node, button)[0]).click()
            return True

        self.wait(click, f"tapping {button!r}")
        if expect is None:
            return self.toast()
        return self.bot_message(expect, after=before)

    def say(self, text: str, expect: str = ""):
        before = self.last_id()
        box = self.driver.find_element(self.By.ID, "text")
        box.send_keys(text)
        self.driver.find_element(self.By.ID, "send").click()
        return self.bot_message(expect, after=before)

    def clear_toast(self) -> None:
        self.driver.execute_script("document.getElementById('toast').style.display = 'none'")

    def toast(self) -> str:
        node = self.driver.find_element(self.By.ID, "toast")
        return self.wait(lambda: node.is_displayed() and node.text, "the tap's answer")

    def card(self, number: str):
        return self.bot_message(number)


def test_a_request_from_order_to_approved_hours_in_the_browser(browser, sandbox):
    page = Page(browser, sandbox)
    page.open("resident")
    page.shot("station-ready")

    # The resident places a request through the whole 点单 conversation.
    page.say("/request", "")
    page.tap("", "助老服务", "")
    page.say("需要帮忙买菜，腿脚不便", "")
    page.tap("", "", "14:00", nth=1)  # the day buttons: today, tomorrow, …; tomorrow
    page.tap("", "14:00", "")
    page.say("幸福小区", "")
    page.tap("", "跳过", "")
    summary = page.say("跳过", "需要帮忙买菜")
    assert "幸福小区" in summary.text
    placed = page.tap("需要帮忙买菜", "✅", "#")
    number = placed.text.split("#", 1)[1].split()[0]
    page.shot("resident-placed")

    # Two volunteers look at the team group's card; the first tap wins, the card is edited in place.
    page.be("volunteer1", "group")
    page.bot_message(number, button="接单")
    page.shot("volunteer1-sees-card")
    first = browser.current_window_handle
    browser.switch_to.new_window("window")
    page.open("volunteer2")
    page.be("volunteer2", "group")
    page.bot_message(number, button="接单")
    browser.execute_script("window.sandbox.pause()")  # this window keeps showing the card as it was
    page.shot("volunteer2-sees-card")
    second = browser.current_window_handle

    browser.switch_to.window(first)
    page.clear_toast()
    page.buttons(page.bot_message(number, button="接单"), "接单")[0].click()
    won = page.toast()
    assert number in won and "您已接下" in won
    card = page.wait(
        lambda: next(
            (
                m
                for m in browser.find_elements(page.By.CSS_SELECTOR, ".msg.bot.edited")
                if number in m.text and "李明" in m.text
            ),
            None,
        ),
        "the card edited with the winner",
    )
    assert not page.buttons(card, "接单")
    page.shot("volunteer1-won-card-edited")

    browser.switch_to.window(second)
    page.clear_toast()
    page.buttons(page.bot_message(number, button="接单"), "接单")[0].click()
    lost = page.toast()
    assert "您已接下" not in lost
    page.shot("volunteer2-too-late")
    browser.execute_script("window.sandbox.resume()")
    card = page.wait(
        lambda: next(
            (m for m in browser.find_elements(page.By.CSS_SELECTOR, ".msg.bot.edited") if number in m.text), None
        ),
        "volunteer 2's view of the edited card",
    )
    assert "李明" in card.text and "王芳" not in card.text and "已编辑" in card.text
    page.shot("volunteer2-sees-winner")
    browser.close()
    browser.switch_to.window(first)

    # The winner has the details in private; two days later he reports the service done.
    page.be("volunteer1")
    page.bot_message("完成服务", button="完成服务")
    for _ in range(2):
        clock = browser.find_element(page.By.ID, "clock").text
        browser.find_element(page.By.ID, "next-day").click()
        page.wait(lambda clock=clock: browser.find_element(page.By.ID, "clock").text != clock, "the clock to move")
    page.tap("完成服务", "完成服务", "小时")
    page.say("2", "跳过")
    page.tap("服务照片", "跳过", "请居民确认")  # no photos of the service: the report goes to the resident
    page.shot("volunteer1-reported")

    # The resident confirms and rates; the coordinator approves the hours.
    page.be("resident")
    page.tap("请您确认", "⭐⭐⭐⭐⭐", None)
    page.shot("resident-rated")
    page.be("coordinator")
    page.bot_message("待审核时长", button="审核通过")
    page.tap("待审核时长", "审核通过", None)
    page.shot("coordinator-approved")

    # The volunteer is told, and /me shows the approved hours and points.
    page.be("volunteer1")
    page.bot_message("+20 积分")
    me = page.say("/me", "20")
    assert "2 小时" in me.text
    page.shot("volunteer1-me")
