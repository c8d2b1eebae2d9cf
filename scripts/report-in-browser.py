#!/usr/bin/env python3
"""Opens every page of an earmark report in headless Chromium and checks it as a reader's
browser shows it.

    scripts/report-in-browser.py REPORT_DIR RECORDS.jsonl SHOTS_DIR

Fails (exit 1) on any console message of level error or warning, any script exception, any
resource that did not load, any link to a page or anchor that does not exist, or any claim
whose alignment plot does not hold one point per landmark pair that the scan's records give
its matches. Saves a screenshot of the overview and of the first track page, and the first
track page printed to PDF.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: commands on
descriptor 3, answers and events on 4, each a JSON text ended by a NUL byte), so nothing but
Python's standard library and the chromium package is needed, and no port is opened.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse


class Browser:
    def __init__(self, binary):
        to_child, self._commands = os.pipe()
        self._events, from_child = os.pipe()
        self._profile = tempfile.mkdtemp(prefix="earmark-chromium-")

        def wire():
            # Copied high first: either end may already be numbered 3 or 4.
            commands, events = os.dup(to_child), os.dup(from_child)
            os.dup2(commands, 3)
            os.dup2(events, 4)

        self._process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
            ],
            pass_fds=(3, 4),
            preexec_fn=wire,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._reader = os.fdopen(self._events, "rb")
        self._buffer = b""
        self._next = 0
        self.events = []

    def close(self):
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError):
            pass
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _message(self):
        while b"\0" not in self._buffer:
            chunk = os.read(self._events, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buffer += chunk
        text, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(text)

    def send(self, method, session=None, **params):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, session):
        for n, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                del self.events[n]
                return event
        while True:
            event = self._message()
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self.events.append(event)


def expected_points(records):
    """Landmark pairs per claim (item, member, track), at most those a record carries."""
    points = {}
    with open(records, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if "track" not in r:
                continue
            key = (r["item"], r.get("member", ""), r["track"])
            pairs = len((r.get("alignment") or {}).get("item_cs", []))
            points[key] = points.get(key, 0) + pairs
    return points


# Run in each page: what the checks need, read from the page as the browser built it.
SURVEY = """(() => {
  const claims = [...document.querySelectorAll('section.claim')].map(s => {
    const fig = s.querySelector('figure.alignment');
    return {
      item: s.dataset.item, member: s.dataset.member, track: s.dataset.track,
      stated: fig ? Number(fig.dataset.points) : -1,
      drawn: fig ? fig.querySelectorAll('svg circle').length : -1,
      svgs: s.querySelectorAll('svg').length,
    };
  });
  const links = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const external = [...document.querySelectorAll('[src],link[href],script')]
    .map(e => e.getAttribute('src') || e.getAttribute('href') || 'inline script');
  return {claims, links, ids, external, title: document.title};
})()"""


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    site, records, shots = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    shots.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        sys.exit("chromium is not installed (Debian: apt-get install chromium)")
    expected = expected_points(records)
    pages = sorted(site.glob("*.html"))
    if not pages:
        sys.exit(f"{site} holds no pages")
    failures = []
    ids_of = {}
    links_of = {}
    seen_claims = set()
    browser = Browser(binary)
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=1200,
            height=1600,
            deviceScaleFactor=1,
            mobile=False,
        )
        for page in pages:
            browser.events.clear()
            browser.send("Page.navigate", session, url=page.resolve().as_uri())
            browser.wait_for("Page.loadEventFired", session)
            survey = browser.send(
                "Runtime.evaluate", session, expression=SURVEY, returnByValue=True
            )["result"]["value"]
            for event in browser.events:
                method, params = event.get("method"), event.get("params", {})
                if method == "Runtime.consoleAPICalled" and params.get("type") in (
                    "error",
                    "warning",
                    "assert",
                ):
                    args = " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                    failures.append(f"{page.name}: console {params['type']}: {args}")
                elif method == "Runtime.exceptionThrown":
                    failures.append(f"{page.name}: exception: {params['exceptionDetails']['text']}")
                elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                    failures.append(f"{page.name}: {params['entry']['level']}: {params['entry']['text']}")
                elif method == "Network.loadingFailed":
                    failures.append(f"{page.name}: a resource did not load: {params.get('errorText')}")
            for e in survey["external"]:
                failures.append(f"{page.name}: refers to a resource or script: {e}")
            ids_of[page.name] = set(survey["ids"])
            links_of[page.name] = survey["links"]
            for c in survey["claims"]:
                key = (c["item"], c["member"], c["track"])
                seen_claims.add(key)
                want = expected.get(key)
                if want is None:
                    failures.append(f"{page.name}: a claim the records do not hold: {key}")
                elif not (c["stated"] == c["drawn"] == want):
                    failures.append(
                        f"{page.name}: claim {key}: {c['drawn']} points drawn, "
                        f"{c['stated']} stated, {want} in the records"
                    )
                if c["svgs"] != 2:
                    failures.append(f"{page.name}: claim {key} has {c['svgs']} plots, not 2")
            if page.name == "index.html" or page.name == first_track(pages):
                shot = browser.send("Page.captureScreenshot", session, format="png")
                (shots / f"{page.stem}.png").write_bytes(base64.b64decode(shot["data"]))
            if page.name == first_track(pages):
                pdf = browser.send("Page.printToPDF", session, printBackground=True)
                (shots / f"{page.stem}.pdf").write_bytes(base64.b64decode(pdf["data"]))
    finally:
        browser.close()
    for page, links in links_of.items():
        for href in links:
            url = urlparse(href)
            if url.scheme or url.netloc:
                failures.append(f"{page}: a link that leaves the report: {href}")
                continue
            name = unquote(url.path) or page
            if name not in ids_of:
                failures.append(f"{page}: a link to a page that does not exist: {href}")
            elif url.fragment and url.fragment not in ids_of[name]:
                failures.append(f"{page}: a link to an anchor that does not exist: {href}")
    for key in expected.keys() - seen_claims:
        failures.append(f"a claim in the records has no section: {key}")
    claims = sum(1 for _ in seen_claims)
    print(
        f"{len(pages)} pages, {claims} claims, "
        f"{sum(len(v) for v in links_of.values())} links checked in {binary}"
    )
    if failures:
        print("\n".join(failures[:50]), file=sys.stderr)
        sys.exit(f"{len(failures)} failures")
    print(f"screenshots and PDF in {shots}")


def first_track(pages):
    tracks = [p.name for p in pages if p.name.startswith("track-")]
    return min(tracks, key=lambda n: (len(n), n)) if tracks else None


if __name__ == "__main__":
    main()
