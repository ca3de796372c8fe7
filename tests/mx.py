#!/usr/bin/env python3
"""mx.py - a small Matrix client for the end-to-end tests (Python 3 stdlib).

The homeserver is $MX_HS (tests/synapse.sh's $hs). Every subcommand takes a
human's access token first and prints what the shell needs: an event or
room id, or JSON. Exit status 1 (with the server's answer on stderr) when a
call fails or a wait times out, so a test can `check` it.

    send TOKEN ROOM TEXT [--html HTML] [--notice] [--thread ROOT] -> event id
    send-many TOKEN ROOM N PREFIX                       -> N event ids
    react TOKEN ROOM EVENT KEY                          -> event id
    react-many TOKEN ROOM KEY < EVENT IDS               -> reaction ids
    redact TOKEN ROOM EVENT                             -> event id
    edit TOKEN ROOM EVENT TEXT                          -> event id
    create TOKEN [--invite USER...] [--name N] [--direct] [--encrypted] -> room id
    send-raw TOKEN ROOM TYPE JSON                       -> event id
    invite TOKEN ROOM USER | join TOKEN ROOM | leave TOKEN ROOM
    state TOKEN ROOM TYPE [KEY]                         -> content JSON
    event TOKEN ROOM EVENT                              -> event JSON
    messages TOKEN ROOM [--limit N]                     -> chunk JSON (newest first)
    sync-next TOKEN [SINCE]                             -> the next_batch after SINCE
    notices TOKEN ROOM PYREGEX [--sender U] [--msgtype T|any] [--limit N]
                                                        -> how many match
    wait-notice TOKEN ROOM PYREGEX [--timeout S] [--after EVENT]
                [--sender U] [--msgtype T|any] [--thread ROOT] -> the event JSON
    wait-member TOKEN ROOM USER MEMBERSHIP [--timeout S]
    wait-invite TOKEN [--name PYREGEX] [--timeout S]    -> room id
    alias TOKEN '#alias:server'                         -> room id
    download TOKEN MXC                                  -> the bytes
    joined TOKEN                                        -> room ids
    invites TOKEN                                       -> room ids
    account-data TOKEN TYPE                             -> content JSON
    whoami TOKEN                                        -> user id

Waits poll with a bounded deadline; nothing here sleeps to synchronise.
"""

import argparse
import http.client
import json
import os
import re
import sys
import time
import urllib.parse

BOT = "@pmbot:localhost"


class MxError(Exception):
    pass


class Client:
    """One kept-alive HTTP connection to the homeserver per process."""

    def __init__(self, token):
        url = urllib.parse.urlsplit(os.environ.get("MX_HS", "http://127.0.0.1:8008"))
        self.host, self.port = url.hostname, url.port or 80
        self.token = token
        self.conn = None
        self.n = 0

    def call(self, method, path, body=None, raw=False, ok404=False,
             ctype="application/json"):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Authorization": "Bearer " + self.token}
        if data is not None:
            headers["Content-Type"] = ctype
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                got = r.read()
            except (OSError, http.client.HTTPException):
                # a kept-alive connection the server closed: once more, anew
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if r.status == 429 and attempt < 2:
                try:
                    ms = json.loads(got).get("retry_after_ms", 100)
                except ValueError:
                    ms = 100
                time.sleep(ms / 1000.0)  # the server's own back-off, not a sync
                continue
            break
        if r.status == 404 and ok404:
            return None
        if r.status // 100 != 2:
            raise MxError("%s %s -> %d %s" % (method, path.split("?")[0], r.status,
                                              got.decode("utf-8", "replace")[:500]))
        return got if raw else json.loads(got or b"{}")

    def txn(self):
        self.n += 1
        return "mx%d.%d.%d" % (os.getpid(), time.time_ns(), self.n)


def q(s):
    return urllib.parse.quote(s, safe="")


C = "/_matrix/client/v3"


def room_path(room):
    return C + "/rooms/" + q(room)


def send_content(c, room, etype, content):
    r = c.call("PUT", "%s/send/%s/%s" % (room_path(room), q(etype), c.txn()), content)
    return r["event_id"]


def text_content(text, html=None, notice=False):
    content = {"msgtype": "m.notice" if notice else "m.text", "body": text}
    if html is not None:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = html
    return content


def messages(c, room, limit=100, pages=1):
    out = []
    frm = None
    for _ in range(pages):
        path = "%s/messages?dir=b&limit=%d" % (room_path(room), limit)
        if frm:
            path += "&from=" + q(frm)
        r = c.call("GET", path)
        out.extend(r.get("chunk", []))
        frm = r.get("end")
        if not frm or not r.get("chunk"):
            break
    return out


def matching(chunk, regex, sender, msgtype, after=None, thread=None):
    """The matching events of a newest-first chunk, newest first; with
    after, only those newer than that event; with thread, only those in
    that thread."""
    pat = re.compile(regex, re.S)
    found = []
    for ev in chunk:
        if after and ev.get("event_id") == after:
            break
        if ev.get("type") != "m.room.message" or ev.get("sender") != sender:
            continue
        content = ev.get("content", {})
        if msgtype != "any" and content.get("msgtype") != msgtype:
            continue
        if "m.new_content" in content:
            continue
        rel = content.get("m.relates_to") or {}
        if thread and (rel.get("rel_type") != "m.thread" or rel.get("event_id") != thread):
            continue
        if pat.search(content.get("body", "")):
            found.append(ev)
    return found


def deadline_loop(timeout, step=0.1):
    """Yields until the deadline; between polls waits `step` (polling)."""
    end = time.monotonic() + timeout
    while True:
        yield
        if time.monotonic() >= end:
            return
        time.sleep(step)


def initial_sync(c):
    # Synapse answers an identical /sync from a cache for about 2 minutes:
    # a filter of its own makes each poll see the present
    f = q(json.dumps({"room": {"timeline": {"limit": 1}, "state": {"types": ["m.room.name"]}},
                      "presence": {"not_types": ["*"]},
                      "account_data": {"not_types": ["x.mx.%s" % c.txn()]}}))
    return c.call("GET", C + "/sync?timeout=0&filter=" + f)


def main(argv):
    ap = argparse.ArgumentParser(prog="mx.py")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def cmd(name, *args):
        p = sub.add_parser(name)
        p.add_argument("token")
        for a in args:
            p.add_argument(a)
        return p

    p = cmd("send", "room", "text")
    p.add_argument("--html")
    p.add_argument("--notice", action="store_true")
    p.add_argument("--thread")
    cmd("send-many", "room", "n", "prefix")
    cmd("react", "room", "event", "key")
    cmd("react-many", "room", "key")
    cmd("redact", "room", "event")
    cmd("edit", "room", "event", "text")
    p = cmd("create")
    p.add_argument("--invite", nargs="*", default=[])
    p.add_argument("--name")
    p.add_argument("--direct", action="store_true")
    p.add_argument("--encrypted", action="store_true")
    cmd("send-raw", "room", "type", "json")
    cmd("invite", "room", "user")
    cmd("join", "room")
    cmd("leave", "room")
    p = cmd("state", "room", "type")
    p.add_argument("key", nargs="?", default="")
    cmd("event", "room", "event")
    p = cmd("messages", "room")
    p.add_argument("--limit", type=int, default=100)
    for name in ("notices", "wait-notice"):
        p = cmd(name, "room", "regex")
        p.add_argument("--sender", default=BOT)
        p.add_argument("--msgtype", default="m.notice")
        p.add_argument("--limit", type=int, default=100)
        p.add_argument("--timeout", type=float, default=10)
        p.add_argument("--after")
        p.add_argument("--thread")
    p = cmd("wait-member", "room", "user", "membership")
    p.add_argument("--timeout", type=float, default=10)
    p = cmd("wait-invite")
    p.add_argument("--name", default="")
    p.add_argument("--timeout", type=float, default=10)
    p = cmd("sync-next")
    p.add_argument("since", nargs="?")
    cmd("alias", "alias")
    cmd("download", "mxc")
    cmd("joined")
    cmd("invites")
    cmd("account-data", "type")
    cmd("whoami")
    a = ap.parse_args(argv)
    c = Client(a.token)
    out = sys.stdout

    if a.cmd == "send":
        content = text_content(a.text, a.html, a.notice)
        if a.thread:
            content["m.relates_to"] = {"rel_type": "m.thread", "event_id": a.thread,
                                       "is_falling_back": True,
                                       "m.in_reply_to": {"event_id": a.thread}}
        print(send_content(c, a.room, "m.room.message", content))
    elif a.cmd == "send-many":
        for i in range(1, int(a.n) + 1):
            print(send_content(c, a.room, "m.room.message",
                               text_content("%s%d" % (a.prefix, i))))
    elif a.cmd in ("react", "react-many"):
        events = [a.event] if a.cmd == "react" else sys.stdin.read().split()
        for ev in events:
            print(send_content(c, a.room, "m.reaction", {"m.relates_to": {
                "rel_type": "m.annotation", "event_id": ev, "key": a.key}}))
    elif a.cmd == "send-raw":
        print(send_content(c, a.room, a.type, json.loads(a.json)))
    elif a.cmd == "redact":
        r = c.call("PUT", "%s/redact/%s/%s" % (room_path(a.room), q(a.event), c.txn()), {})
        print(r["event_id"])
    elif a.cmd == "edit":
        new = text_content(a.text)
        content = dict(text_content("* " + a.text))
        content["m.new_content"] = new
        content["m.relates_to"] = {"rel_type": "m.replace", "event_id": a.event}
        print(send_content(c, a.room, "m.room.message", content))
    elif a.cmd == "create":
        body = {"preset": "trusted_private_chat" if a.direct else "private_chat",
                "invite": a.invite, "is_direct": a.direct}
        if a.name:
            body["name"] = a.name
        if a.encrypted:
            body["initial_state"] = [{"type": "m.room.encryption", "state_key": "",
                                      "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
        print(c.call("POST", C + "/createRoom", body)["room_id"])
    elif a.cmd == "invite":
        c.call("POST", room_path(a.room) + "/invite", {"user_id": a.user})
    elif a.cmd == "join":
        print(c.call("POST", C + "/join/" + q(a.room), {})["room_id"])
    elif a.cmd == "leave":
        c.call("POST", room_path(a.room) + "/leave", {})
    elif a.cmd == "state":
        path = "%s/state/%s/%s" % (room_path(a.room), q(a.type), q(a.key))
        json.dump(c.call("GET", path), out)
        print()
    elif a.cmd == "event":
        json.dump(c.call("GET", "%s/event/%s" % (room_path(a.room), q(a.event))), out)
        print()
    elif a.cmd == "messages":
        json.dump(messages(c, a.room, 100, (a.limit + 99) // 100)[:a.limit], out)
        print()
    elif a.cmd == "sync-next":
        path = C + "/sync?timeout=0"
        if a.since:
            path += "&since=" + q(a.since)
        print(c.call("GET", path)["next_batch"])
    elif a.cmd == "notices":
        chunk = messages(c, a.room, 100, max(1, a.limit // 100))
        print(len(matching(chunk, a.regex, a.sender, a.msgtype, a.after, a.thread)))
    elif a.cmd == "wait-notice":
        for _ in deadline_loop(a.timeout):
            found = matching(messages(c, a.room, a.limit), a.regex, a.sender,
                             a.msgtype, a.after, a.thread)
            if found:
                json.dump(found[-1], out)  # the oldest match after --after
                print()
                return 0
        sys.stderr.write("mx.py: no %s from %s matching %r in %s within %gs\n"
                         % (a.msgtype, a.sender, a.regex, a.room, a.timeout))
        return 1
    elif a.cmd == "wait-member":
        for _ in deadline_loop(a.timeout):
            m = c.call("GET", "%s/state/m.room.member/%s" % (room_path(a.room), q(a.user)),
                       ok404=True)
            if m and m.get("membership") == a.membership:
                return 0
        sys.stderr.write("mx.py: %s is not %s in %s within %gs\n"
                         % (a.user, a.membership, a.room, a.timeout))
        return 1
    elif a.cmd == "wait-invite":
        pat = re.compile(a.name)
        for _ in deadline_loop(a.timeout, 0.2):
            for room, v in initial_sync(c).get("rooms", {}).get("invite", {}).items():
                name = ""
                for ev in v.get("invite_state", {}).get("events", []):
                    if ev.get("type") == "m.room.name":
                        name = ev.get("content", {}).get("name", "")
                if pat.search(name):
                    print(room)
                    return 0
        sys.stderr.write("mx.py: no invite to a room named %r within %gs\n"
                         % (a.name, a.timeout))
        return 1
    elif a.cmd == "alias":
        print(c.call("GET", C + "/directory/room/" + q(a.alias))["room_id"])
    elif a.cmd == "download":
        if not a.mxc.startswith("mxc://"):
            raise MxError("not an mxc URI: %r" % a.mxc)
        server, media = a.mxc[6:].split("/", 1)
        sys.stdout.flush()
        sys.stdout.buffer.write(c.call("GET", "/_matrix/client/v1/media/download/%s/%s"
                                       % (q(server), q(media)), raw=True))
    elif a.cmd == "joined":
        for r in c.call("GET", C + "/joined_rooms")["joined_rooms"]:
            print(r)
    elif a.cmd == "invites":
        for r in initial_sync(c).get("rooms", {}).get("invite", {}):
            print(r)
    elif a.cmd == "account-data":
        me = c.call("GET", C + "/account/whoami")["user_id"]
        json.dump(c.call("GET", "%s/user/%s/account_data/%s" % (C, q(me), q(a.type))), out)
        print()
    elif a.cmd == "whoami":
        print(c.call("GET", C + "/account/whoami")["user_id"])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (MxError, OSError, ValueError, KeyError) as e:
        sys.stderr.write("mx.py: %s\n" % e)
        sys.exit(1)
