#!/usr/bin/python3
"""webdesk.py - drives the news desk page in Debian's headless Chromium
(through chromedriver and python3-selenium), as comms staff would use it.

Usage: webdesk.py URL TOKEN WORKDIR

Signs in (a wrong token first), previews a bulletin with markup in it,
queues it, finds it in the queue, queues a breaking one, withdraws the
first, and signs out, on a phone-sized window. Prints one line per step;
"BULLETIN <id> <breaking id>" for the shell test to check in the
database. Exits 1 with the step that failed. Chromium is kept off every
host but 127.0.0.1.
"""
import re
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException,
                                        StaleElementReferenceException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

URL, TOKEN, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
WAIT_S = 20

TEXT = ("Roads closed <script>alert('x')</script> on Main St & 5th Ave "
        "from 14:30 until 18:00 for the marathon.")
BREAKING = "Breaking: the Vaal bridge is closed after an accident."


def step(msg):
    print("webdesk: " + msg, flush=True)


def fail(msg):
    print("webdesk: FAILED: " + msg, flush=True)
    sys.exit(1)


def browser():
    opt = webdriver.ChromeOptions()
    opt.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-default-apps",
              "--disable-extensions", "--disable-domain-reliability",
              "--metrics-recording-only", "--no-default-browser-check",
              "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
              "--user-data-dir=" + WORK + "/chromium",
              "--window-size=390,844"):
        opt.add_argument(a)
    svc = Service(executable_path="/usr/bin/chromedriver",
                  log_path=WORK + "/chromedriver.log")
    d = webdriver.Chrome(service=svc, options=opt)
    d.set_page_load_timeout(WAIT_S)
    return d


def wait_for(d, what, cond):
    try:
        return WebDriverWait(
            d, WAIT_S,
            ignored_exceptions=(NoSuchElementException,
                                StaleElementReferenceException)).until(
                                    lambda _: cond())
    except WebDriverException as e:
        fail("%s (page: %s): %s" % (what, d.current_url, e.__class__.__name__))


def by_id(d, i):
    found = d.find_elements(By.ID, i)
    return found[0] if found else None


def press(d, button):
    """Clicks a form's button and waits until the page it brings has
    loaded: the old page's window carries a mark the new one lacks."""
    label = button.text
    d.execute_script("window.pulseOldPage = true")
    button.click()

    def loaded():
        try:
            return d.execute_script(
                "return !window.pulseOldPage && "
                "document.readyState === 'complete'")
        except WebDriverException:
            return False  # between the two pages

    deadline = time.monotonic() + WAIT_S
    while not loaded():
        if time.monotonic() > deadline:
            fail("no new page within %d s after pressing '%s'" %
                 (WAIT_S, label))
        time.sleep(0.05)


def page_text(d):
    return d.find_element(By.TAG_NAME, "body").text


def no_sideways_scroll(d, where):
    w = d.execute_script("return document.documentElement.scrollWidth")
    inner = d.execute_script("return window.innerWidth")
    if w > inner:
        fail("%s is %d px wide on a %d px phone screen" % (where, w, inner))


def sign_in(d, token):
    d.get(URL + "/")
    box = wait_for(d, "the sign-in form", lambda: by_id(d, "token"))
    box.clear()
    box.send_keys(token)
    press(d, d.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def main():
    d = browser()
    try:
        sign_in(d, "not-the-token-at-all")
        wait_for(d, "a wrong token refused",
                 lambda: "not valid" in page_text(d))
        if by_id(d, "who"):
            fail("signed in with a wrong token")
        step("a wrong token is refused")

        sign_in(d, TOKEN)
        who = wait_for(d, "the news desk after signing in",
                       lambda: by_id(d, "who"))
        if who.text != "newsdesk":
            fail("signed in as '%s', not newsdesk" % who.text)
        no_sideways_scroll(d, "the news desk")
        step("signed in as " + who.text)

        d.find_element(By.ID, "text").send_keys(TEXT)
        Select(d.find_element(By.ID, "lang")).select_by_value("en")
        Select(d.find_element(By.ID, "expires")).select_by_value("+3h")
        press(d, d.find_element(By.CSS_SELECTOR, "button[value=preview]"))
        prev = wait_for(d, "the preview", lambda: by_id(d, "preview"))
        spoken = prev.text
        step("preview: " + spoken)
        if "<" in spoken or "script" in spoken.lower():
            fail("the preview still holds the markup")
        if "Main St and 5th Ave" not in spoken or "14 30" not in spoken:
            fail("the preview is not the normalised text")
        if d.find_element(By.ID, "text").get_attribute("value") != TEXT:
            fail("the text was not kept in the form after the preview")
        sel = Select(d.find_element(By.ID, "expires"))
        if sel.first_selected_option.get_attribute("value") != "+3h":
            fail("the expiry was not kept after the preview")
        if by_id(d, "queue").tag_name != "p":
            fail("a preview queued something")
        step("the preview shows the normalised text; nothing queued")

        press(d, d.find_element(By.CSS_SELECTOR, "button[value=queue]"))
        msg = wait_for(d, "the queued message", lambda: by_id(d, "flash"))
        m = re.search(r"#(\d+) is queued", msg.text)
        if not m:
            fail("no 'queued' message: " + msg.text)
        bid = m.group(1)
        item = wait_for(d, "the bulletin in the queue",
                        lambda: by_id(d, "b" + bid))
        if "Main St" not in item.text or "<script>" in item.text:
            # The queue shows the text as stored: markup cleaned away.
            fail("the queue shows: " + item.text)
        if "queued" not in item.text or "expires" not in item.text:
            fail("the queue line lacks its state or expiry: " + item.text)
        if d.find_element(By.ID, "text").get_attribute("value"):
            fail("the form was not cleared after queueing")
        no_sideways_scroll(d, "the queue")
        step("bulletin %s queued and listed: %s" % (bid, item.text))

        d.find_element(By.ID, "text").send_keys(BREAKING)
        d.find_element(By.CSS_SELECTOR,
                       "input[name=priority][value=breaking]").click()
        press(d, d.find_element(By.CSS_SELECTOR, "button[value=queue]"))
        msg = wait_for(d, "the breaking one queued",
                       lambda: by_id(d, "flash"))
        m = re.search(r"#(\d+) is queued: breaking", msg.text)
        if not m:
            fail("no 'queued: breaking' message: " + msg.text)
        brk = m.group(1)
        step("breaking bulletin %s queued" % brk)

        btn = d.find_element(
            By.XPATH, "//li[@id='b%s']//button[text()='Withdraw #%s']" %
            (bid, bid))
        press(d, btn)
        msg = wait_for(d, "the withdrawn message", lambda: by_id(d, "flash"))
        if ("#%s is withdrawn" % bid) not in msg.text:
            fail("no 'withdrawn' message: " + msg.text)
        if by_id(d, "b" + bid):
            fail("the withdrawn bulletin is still in the queue")
        gone = wait_for(d, "the withdrawn one under Today",
                        lambda: by_id(d, "t" + bid))
        if "withdrawn" not in gone.text:
            fail("Today shows: " + gone.text)
        step("bulletin %s withdrawn: %s" % (bid, gone.text))

        # The breaking one airs: reload until Today lists it as aired.
        deadline = time.monotonic() + 60
        while True:
            d.get(URL + "/comms")
            t = by_id(d, "t" + brk)
            if t and "aired" in t.text:
                step("breaking bulletin %s aired: %s" % (brk, t.text))
                break
            if time.monotonic() > deadline:
                fail("breaking bulletin %s not aired within 60 s" % brk)
            time.sleep(1)

        press(d, d.find_element(By.CSS_SELECTOR, "form.who button"))
        wait_for(d, "the sign-in form after signing out",
                 lambda: by_id(d, "token"))
        step("signed out")
        print("BULLETIN %s %s" % (bid, brk), flush=True)
    finally:
        d.quit()


main()
