#!/usr/bin/env python3
"""Opens a local HTML file in a real headless Chromium and reports what a person would see.

    scripts/browser_check.py PAGE.html [--count NAME=CSS]... [--visible NAME=CSS]... [--screenshot OUT.png [--full]]
                             [--width 1200] [--height 900]

Prints one JSON object on stdout:
  {"errors": [...], "console": [...], "text": "<the page's innerText>", "counts": {NAME: n},
   "visible": {NAME: n}, "scripts": n, "title": "..."}
`errors` holds console errors, uncaught exceptions and failed loads; `visible` counts the elements that
match CSS and are actually rendered (checkVisibility). Chromium is driven over the DevTools protocol on
loopback only (127.0.0.1, an ephemeral port), with a throw-away profile that is removed afterwards.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import websocket  # websocket-client, from PyPI (scripts/setup.sh installs it)


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("browser_check: no chromium on PATH (apt-get install chromium)")


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.session = None
        self.events = []

    def send(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.time() + timeout
        while time.time() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def wait_for(self, method, timeout=30):
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        deadline = time.time() + timeout
        while time.time() < deadline:
            event = json.loads(self.ws.recv())
            if event.get("method") == method:
                return event
            self.events.append(event)
        raise TimeoutError(method)

    def drain(self, seconds=0.3):
        self.ws.settimeout(seconds)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("--count", action="append", default=[])
    parser.add_argument("--visible", action="append", default=[])
    parser.add_argument("--screenshot")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--full", action="store_true", help="screenshot the whole page, not the first viewport")
    args = parser.parse_args()

    profile = tempfile.mkdtemp(prefix="acp-drill-chromium-")
    browser = subprocess.Popen(
        [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-background-networking", "--disable-sync", "--disable-component-update",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and len(open(port_file).read().split()) >= 2):
            if time.time() > deadline or browser.poll() is not None:
                sys.exit("browser_check: chromium did not start")
            time.sleep(0.1)
        port, path = open(port_file).read().split()[:2]
        page = Page(websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=30, suppress_origin=True))
        target = page.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        page.session = page.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            page.send(domain)
        page.send("Emulation.setDeviceMetricsOverride", {"width": args.width, "height": args.height, "deviceScaleFactor": 1, "mobile": False})
        page.send("Page.navigate", {"url": "file://" + os.path.abspath(args.page)})
        page.wait_for("Page.loadEventFired")
        page.drain()

        def named(pairs):
            out = {}
            for pair in pairs:
                name, _, css = pair.partition("=")
                out[name] = css
            return out

        expression = """(() => {
            const counts = %s, visible = %s, out = {counts: {}, visible: {}};
            for (const [k, css] of Object.entries(counts)) out.counts[k] = document.querySelectorAll(css).length;
            for (const [k, css] of Object.entries(visible)) out.visible[k] =
                [...document.querySelectorAll(css)].filter(e => e.checkVisibility ? e.checkVisibility() : e.offsetParent !== null).length;
            out.text = document.body.innerText;
            out.scripts = document.querySelectorAll('script').length;
            out.title = document.title;
            return JSON.stringify(out);
        })()""" % (json.dumps(named(args.count)), json.dumps(named(args.visible)))
        result = json.loads(page.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"]["value"])
        if args.screenshot:
            shot = page.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": args.full})
            import base64
            with open(args.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        page.drain()
        errors, console = [], []
        for event in page.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                console.append(f"{params.get('type')}: {text}")
                if params.get("type") in ("error", "assert"):
                    errors.append(text)
            elif method == "Runtime.exceptionThrown":
                errors.append(params.get("exceptionDetails", {}).get("text", "exception"))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(params["entry"].get("text", "error"))
        result["errors"] = errors
        result["console"] = console
        print(json.dumps(result))
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
