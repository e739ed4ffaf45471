#!/usr/bin/env python3
"""Lists Docker resources carrying acp-drill's project label, to tell what a test run left behind.

  leaks.py snapshot          print a JSON list of resource ids with our label (before the tests)
  leaks.py diff SNAPSHOT     print the ones that are new since the snapshot (empty: nothing leaked)

ACP_LEAKS_SOCK names another engine's socket (Podman's); ACP_LEAKS_ALL_VOLUMES=1 counts every volume, labelled
or not (Podman drops an anonymous volume's labels, so a leaked one would carry none).
"""
import http.client, json, os, socket, sys, urllib.parse

SOCK = os.environ.get("ACP_LEAKS_SOCK", "/var/run/docker.sock")
ALL_VOLUMES = os.environ.get("ACP_LEAKS_ALL_VOLUMES") == "1"
FILTER = urllib.parse.quote(json.dumps({"label": ["dev.acp-drill.project"]}))


class UnixConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(SOCK)


def get(path):
    c = UnixConnection("localhost")
    c.request("GET", path)
    return json.loads(c.getresponse().read())


def ours():
    found = {}
    for c in get(f"/containers/json?all=1&filters={FILTER}"):
        found[c["Id"]] = "container " + c["Names"][0].lstrip("/")
    for n in get(f"/networks?filters={FILTER}"):
        found[n["Id"]] = "network " + n["Name"]
    for v in get("/volumes" if ALL_VOLUMES else f"/volumes?filters={FILTER}").get("Volumes") or []:
        found[v["Name"]] = "volume " + ((v.get("Labels") or {}).get("dev.acp-drill.project") or v["Name"])
    return found


if sys.argv[1] == "snapshot":
    print(json.dumps(sorted(ours())))
else:
    before = set(json.loads(sys.argv[2]))
    new = {k: v for k, v in ours().items() if k not in before}
    print(", ".join(sorted(new.values())))
