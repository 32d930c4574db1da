#!/usr/bin/env python3
"""Drives the two-node stack of compose.ha.yaml through its load balancer (docker/test-failover.sh runs it).

Writes are conditional creates (If-None-Exist on a unique identifier) of PHQ-9 item 9 Observations with a value
above 0: each is a suicide-risk escalation event (one Flag + Task) and leaves an AuditEvent. A write that gets no
2xx is retried with the same identifier, so a write that was applied but whose answer was lost is found, not
repeated. Phases:
  1. a token from the load balancer is accepted by both nodes; a write through one is read through the other;
  2. node 1 is killed (SIGKILL) in the middle of a write load: time until HAProxy has it out, errors seen by clients;
     node 1 is started again and must take traffic again;
  3. PostgreSQL is restarted in the middle of a write load;
  4. a Subscription created through node 1 delivers a Flag written through node 2 within HAPI's registry refresh
     (60 s), and then each Flag once, from either node;
  5. node 2 gets SIGTERM under load: it must stop gracefully (exit code 143, "Graceful shutdown complete") in time;
  6. every acknowledged write is there exactly once, with its AuditEvent and exactly one Flag.
Python standard library only. Exits non-zero on any failed check.
"""
import argparse
import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

FAILED = []


def log(msg):
    print(f"[failover {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def check(ok, what):
    log(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        FAILED.append(what)


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.token = None

    def request(self, method, path, body=None, headers=None, timeout=30, auth=True):
        url = path if path.startswith("http") else self.base + path
        h = {"Accept": "application/json" if "/actuator/" in url else "application/fhir+json"}
        if auth and self.token:
            h["Authorization"] = "Bearer " + self.token
        if body is not None:
            h["Content-Type"] = "application/fhir+json"
            body = json.dumps(body).encode()
        h.update(headers or {})
        req = urllib.request.Request(url, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()
        except (urllib.error.URLError, OSError) as e:  # connection refused/reset, timeout
            return 0, {}, str(e).encode()

    def json(self, method, path, **kw):
        status, headers, body = self.request(method, path, **kw)
        return status, headers, (json.loads(body) if status // 100 == 2 and body else None)

    def fetch_token(self, client_id, secret, scope):
        data = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": scope}).encode()
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        req = urllib.request.Request(self.base + "/oauth2/token", data=data, method="POST", headers={
            "Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=30) as r:
            self.token = json.loads(r.read())["access_token"]

    def search_all(self, path):
        """All entries of a search, following next links (HAPI keeps the paging state in the database)."""
        entries, url = [], path
        while url:
            # no-cache: HAPI would otherwise answer a repeated search from its result cache (up to 60 s old)
            status, _, bundle = self.json("GET", url, timeout=60, headers={"Cache-Control": "no-cache"})
            if status != 200:
                raise RuntimeError(f"search {url} answered {status}")
            entries += [e["resource"] for e in bundle.get("entry", [])]
            url = next((l["url"] for l in bundle.get("link", []) if l["relation"] == "next"), None)
        return entries


def podman(*args, check_rc=True):
    r = subprocess.run(["podman", *args], capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def lb_status(stats_url, server):
    """Status of a server in HAProxy's statistics (UP, DOWN, MAINT, 'UP 1/2'...)."""
    try:
        with urllib.request.urlopen(stats_url + ";csv", timeout=5) as r:
            for line in r.read().decode().splitlines():
                f = line.split(",")
                if len(f) > 17 and f[0] == "nodes" and f[1] == server:
                    return f[17]
    except OSError:
        pass
    return "?"


def wait_lb(stats_url, server, want, timeout):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if lb_status(stats_url, server).startswith(want):
            return time.monotonic() - start
        time.sleep(0.1)
    return None


class Load:
    """Bounded write load: WRITERS threads, each writing new Observations until stopped."""

    def __init__(self, api, run, patient, phase, writers=4):
        self.api, self.run, self.patient, self.phase = api, run, patient, phase
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = {}  # identifier value -> (id, node)
        self.errors = []  # (time, status, node)
        self.nodes = {}
        self.threads = [threading.Thread(target=self.writer, args=(w,), daemon=True) for w in range(writers)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=180)

    def writer(self, w):
        n = 0
        while not self.stop.is_set():
            n += 1
            value = f"{self.phase}-{w}-{n}"
            obs = {"resourceType": "Observation", "status": "final",
                   "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},
                   "identifier": [{"system": self.run, "value": value}],
                   "code": {"coding": [{"system": "http://loinc.org", "code": "44260-8"}]},
                   "subject": {"reference": self.patient}, "valueInteger": 2}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                status, headers, body = self.api.request(
                    "POST", "/fhir/Observation", body=obs,
                    headers={"If-None-Exist": f"identifier={self.run}|{value}"})
                node = headers.get("X-NSSI-Node", "-") if headers else "-"
                if status in (200, 201):
                    location = headers.get("Location") or headers.get("Content-Location") or ""
                    rid = location.split("/Observation/")[1].split("/")[0] if "/Observation/" in location else None
                    with self.lock:
                        self.acked[value] = (rid, node)
                        self.nodes[node] = self.nodes.get(node, 0) + 1
                    break
                with self.lock:
                    self.errors.append((time.monotonic(), status, node))
                if 400 <= status < 500 and status not in (401, 408, 409, 412, 429):
                    log(f"writer {w}: {status} {body[:300]!r}")
                    self.stop.set()
                    return
                time.sleep(0.5)
            else:
                log(f"writer {w}: {value} not acknowledged within 120 s")

    def count(self):
        with self.lock:
            return len(self.acked)


class Receiver(http.server.ThreadingHTTPServer):
    """Rest-hook endpoint on the host; containers reach it as host.containers.internal (podman) or
    host.docker.internal (Docker, with the host-gateway mapping)."""

    def __init__(self):
        self.deliveries = []  # (monotonic time, path)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.deliveries.append((time.monotonic(), self.path))
                self.send_response(200)
                self.end_headers()

            do_PUT = do_POST

            def log_message(self, *args):
                pass

        super().__init__(("0.0.0.0", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def subscription_phase(api, run, timings, host_alias):
    """A Subscription created through node 1 delivers a Flag written through node 2, within HAPI's registry refresh
    (60 s); afterwards each Flag, from either node, is delivered exactly once."""
    receiver = Receiver()
    port = receiver.server_address[1]
    run = run + "-subscription"  # not counted with the load's writes
    patient = {"resourceType": "Patient",
               "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},
               "identifier": [{"system": run, "value": "subscription-patient"}], "name": [{"family": "Subscribed"}]}
    status, headers, _ = api.request("POST", "/fhir/Patient", body=patient)
    pid = headers["Location"].split("/Patient/")[1].split("/")[0]
    sub = {"resourceType": "Subscription", "status": "requested", "reason": "container failover test",
           "criteria": f"Flag?patient=Patient/{pid}",
           "channel": {"type": "rest-hook", "endpoint": f"http://{host_alias}:{port}/ehr", "payload": "application/fhir+json"}}
    status, headers, _ = api.request("POST", "/fhir/Subscription", body=sub, headers={"Cookie": "NSSI_NODE=node1"})
    check(status == 201 and headers.get("X-NSSI-Node") == "node1", f"Subscription created through node1 ({status})")
    t_sub = time.monotonic()

    def episode(node, n):
        obs = {"resourceType": "Observation", "status": "final",
               "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},
               "identifier": [{"system": run, "value": f"subscription-{n}"}],
               "code": {"coding": [{"system": "http://loinc.org", "code": "44260-8"}]},
               "subject": {"reference": f"Patient/{pid}"}, "valueInteger": 1}
        st, hd, _ = api.request("POST", "/fhir/Observation", body=obs, headers={"Cookie": f"NSSI_NODE={node}"})
        return st == 201 and hd.get("X-NSSI-Node") == node

    # a Flag written through node 2 every 5 s until node 2 delivers one (its registry has the Subscription)
    n, first = 0, None
    while time.monotonic() - t_sub < 120 and first is None:
        n += 1
        if not episode("node2", n):
            check(False, "an Observation written through node2 (cookie-pinned) was stored by node2")
            break
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not receiver.deliveries:
            time.sleep(0.2)
        if receiver.deliveries:
            first = receiver.deliveries[0][0] - t_sub
    timings["subscription_other_node_s"] = None if first is None else round(first, 1)
    check(first is not None and first <= 75, f"a Subscription created through node1 delivers a Flag written through "
                                             f"node2 {timings['subscription_other_node_s']} s after its creation "
                                             f"(bound: HAPI's 60 s registry refresh)")
    # from now on: one delivery per Flag, whichever node writes it
    time.sleep(5)
    before = len(receiver.deliveries)
    ok = episode("node1", n + 1) and episode("node2", n + 2)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(receiver.deliveries) < before + 2:
        time.sleep(0.2)
    time.sleep(5)  # time for a duplicate, if one were coming
    delivered = [p for _, p in receiver.deliveries[before:]]
    check(ok and len(delivered) == 2 and len(set(delivered)) == 2,
          f"Flags written through node1 and node2 delivered once each ({delivered})")
    receiver.shutdown()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--stats", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--secret", default=os.environ.get("NSSI_BACKEND_CLIENT_SECRET"), help="default: $NSSI_BACKEND_CLIENT_SECRET")
    p.add_argument("--node1", required=True, help="container name of node 1")
    p.add_argument("--node2", required=True, help="container name of node 2")
    p.add_argument("--db", required=True, help="container name of PostgreSQL")
    p.add_argument("--host-alias", default="host.containers.internal", help="the host's name inside the containers")
    a = p.parse_args()
    api = Api(a.base)
    timings = {}
    run = f"urn:nssi-failover:{uuid.uuid4()}"
    t0 = time.monotonic()

    # 1. token through the load balancer, accepted by both nodes ----------------------------------------------------
    api.fetch_token(a.client_id, a.secret, "system/*.cruds system/AuditEvent.rs")
    for node in ("node1", "node2"):
        status, headers, _ = api.request("GET", "/fhir/Patient?_count=1", headers={"Cookie": f"NSSI_NODE={node}"})
        check(status == 200 and headers.get("X-NSSI-Node") == node, f"the token is accepted by {node} ({status})")
    # browsers (sign-in pages) are kept on one node by HAProxy's cookie
    status, headers, _ = api.request("GET", "/actuator/health/readiness", auth=False)
    cookie = headers.get("Set-Cookie", "") if headers else ""
    check(cookie.startswith("NSSI_NODE=node"), f"the load balancer sets its stickiness cookie ({cookie.split(';')[0]})")
    patient = {"resourceType": "Patient",
               "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},
               "identifier": [{"system": run, "value": "patient"}], "name": [{"family": "Failover", "given": ["Test"]}]}
    status, headers, _ = api.request("POST", "/fhir/Patient", body=patient, headers={"Cookie": "NSSI_NODE=node1"})
    check(status == 201, f"Patient created through node1 ({status})")
    pid = headers["Location"].split("/Patient/")[1].split("/")[0]
    status, headers, body = api.request("GET", f"/fhir/Patient/{pid}", headers={"Cookie": "NSSI_NODE=node2"})
    check(status == 200 and json.loads(body)["name"][0]["family"] == "Failover", f"...and read through node2 ({status})")
    patient_ref = f"Patient/{pid}"
    loads = []

    # 2. node 1 killed under load ------------------------------------------------------------------------------------
    load = Load(api, run, patient_ref, "kill").start()
    loads.append(load)
    time.sleep(8)
    before = load.count()
    check(before > 0, f"writes acknowledged before the kill: {before} ({load.nodes})")
    t_kill = time.monotonic()
    podman("kill", "-s", "KILL", a.node1)
    out = wait_lb(a.stats, "node1", "DOWN", 30)
    timings["failover_lb_down_s"] = None if out is None else round(out, 1)
    check(out is not None and out <= 10, f"HAProxy takes node1 out {out if out is None else round(out, 1)} s after SIGKILL")
    time.sleep(5)
    # after the failover every request is answered by the survivor
    statuses = [api.request("GET", "/actuator/health/readiness", auth=False)[0] for _ in range(20)]
    check(all(s == 200 for s in statuses), f"20 requests after the failover all answered: {statuses.count(200)}/20")
    load.finish()
    kill_errors = [e for e in load.errors if e[0] >= t_kill]
    last_err = max((e[0] - t_kill for e in kill_errors), default=0.0)
    timings["failover_last_client_error_s"] = round(last_err, 1)
    log(f"client-visible errors after the kill: {len(kill_errors)} ({sorted(set(e[1] for e in kill_errors))}), "
        f"last one {last_err:.1f} s after the kill")
    check(last_err <= 10, "no client error later than 10 s after the kill")
    log(f"kill phase: {load.count()} writes acknowledged, {len(load.errors)} attempts refused or failed ({load.nodes})")
    # the killed node rejoins: started again, ready, and the load balancer routes to it again (a request pinned to
    # node1 by its cookie is answered by node1, not redispatched to node2)
    podman("start", a.node1)
    t_start = time.monotonic()
    back = None
    while time.monotonic() - t_start < 300:
        status, headers, _ = api.request("GET", "/actuator/health/readiness", auth=False, headers={"Cookie": "NSSI_NODE=node1"})
        if status == 200 and headers.get("X-NSSI-Node") == "node1":
            back = time.monotonic() - t_start
            break
        time.sleep(0.5)
    timings["rejoin_s"] = None if back is None else round(back, 1)
    check(back is not None, f"node1 started again, ready and routed to after {timings['rejoin_s']} s")
    status, headers, _ = api.request("GET", "/fhir/Patient?_count=1", headers={"Cookie": "NSSI_NODE=node1"})
    check(status == 200 and headers.get("X-NSSI-Node") == "node1", f"node1 accepts the token issued before its restart ({status})")

    # 3. PostgreSQL restarted under load -----------------------------------------------------------------------------
    load = Load(api, run, patient_ref, "db").start()
    loads.append(load)
    time.sleep(6)
    check(load.nodes.get("node1", 0) > 0, f"the rejoined node1 takes writes again ({load.nodes})")
    t_db = time.monotonic()
    podman("restart", "-t", "10", a.db)
    restarted = time.monotonic() - t_db
    n = load.count()
    deadline = time.monotonic() + 120
    while load.count() < n + 20 and time.monotonic() < deadline:
        time.sleep(0.2)
    recovered = time.monotonic() - t_db
    timings["db_restart_s"] = round(restarted, 1)
    timings["db_writes_recovered_s"] = round(recovered, 1)
    check(load.count() >= n + 20, f"writes go through again {recovered:.1f} s after the restart began "
                                  f"(podman restart took {restarted:.1f} s)")
    for node in ("node1", "node2"):
        up = wait_lb(a.stats, node, "UP", 60)
        check(up is not None, f"{node} ready again after the database restart")
    load.finish()
    log(f"database phase: {load.count()} writes acknowledged, {len(load.errors)} attempts refused or failed "
        f"({sorted(set(e[1] for e in load.errors))})")

    # 4. a Subscription created on one node delivers from the other -------------------------------------------------
    subscription_phase(api, run, timings, a.host_alias)

    # 5. graceful shutdown of node 2 under load ----------------------------------------------------------------------
    load = Load(api, run, patient_ref, "term").start()
    loads.append(load)
    time.sleep(4)
    t_term = time.monotonic()
    podman("stop", "-t", "60", a.node2)
    stopped = time.monotonic() - t_term
    exit_code = podman("inspect", "-f", "{{.State.ExitCode}}", a.node2)
    logs = subprocess.run(["podman", "logs", "--tail", "200", a.node2], capture_output=True, text=True)
    graceful = "Graceful shutdown complete" in (logs.stdout + logs.stderr)
    timings["sigterm_stop_s"] = round(stopped, 1)
    check(exit_code == "143" and graceful and stopped < 60,
          f"node2 stops on SIGTERM in {stopped:.1f} s, exit code {exit_code}, graceful shutdown logged: {graceful}")
    time.sleep(3)
    load.finish()
    term_errors = [e for e in load.errors if e[0] >= t_term]
    log(f"SIGTERM phase: {load.count()} writes acknowledged; client-visible errors during the stop: {len(term_errors)} "
        f"({sorted(set(e[1] for e in term_errors))})")
    check(not [e for e in term_errors if e[1] >= 500 and e[1] != 503], "no 5xx other than 503 during the graceful stop")

    # 6. every acknowledged write: once, with its AuditEvent and exactly one Flag --------------------------------------
    acked = {}
    for l in loads:
        acked.update(l.acked)
    found = api.search_all(f"/fhir/Observation?identifier={urllib.parse.quote(run, safe=':')}|&_count=200&_elements=identifier")
    per_identifier = {}
    for o in found:
        value = o["identifier"][0]["value"]
        per_identifier.setdefault(value, []).append(o["id"])
    missing = [v for v in acked if v not in per_identifier]
    duplicated = {v: ids for v, ids in per_identifier.items() if len(ids) > 1}
    wrong_id = [v for v, (rid, _) in acked.items() if rid and v in per_identifier and per_identifier[v] != [rid]]
    timings["writes_acknowledged"] = len(acked)
    timings["writes_found"] = sum(1 for v in acked if v in per_identifier)
    timings["observations_stored"] = len(found)
    check(not missing, f"every acknowledged write found: {timings['writes_found']}/{len(acked)} (missing {missing[:5]})")
    check(not duplicated, f"no write stored twice ({len(found)} stored; duplicated: {list(duplicated.items())[:5]})")
    check(not wrong_id, f"acknowledged ids match the stored ones ({wrong_id[:5]})")
    check(len(found) >= len(acked), "unacknowledged attempts stored at most once each")
    ids = {f"Observation/{i}" for v in per_identifier.values() for i in v}

    # AuditEvents are stored by the outbox drain a moment after the write
    audited, t_audit = set(), time.monotonic()
    while time.monotonic() - t_audit < 240:
        events = api.search_all(f"/fhir/AuditEvent?patient={patient_ref}&action=C&_count=200&_elements=entity")
        audited = {e2.get("what", {}).get("reference", "").split("/_history")[0]
                   for ev in events for e2 in ev.get("entity", [])}
        if ids <= audited:
            break
        time.sleep(5)
    not_audited = sorted(ids - audited)
    timings["audit_complete_after_s"] = round(time.monotonic() - t_audit, 1)
    check(not not_audited, f"every stored write has its AuditEvent ({len(ids) - len(not_audited)}/{len(ids)}; "
                           f"missing {not_audited[:5]})")

    flags = api.search_all(f"/fhir/Flag?patient={pid}&_count=200&_elements=identifier,code")
    per_event = {}
    for f in flags:
        for ident in f.get("identifier", []):
            if ident.get("system", "").endswith("/escalation-event"):
                per_event[ident["value"]] = per_event.get(ident["value"], 0) + 1
    no_flag = [i for i in ids if per_event.get(f"suicide-risk:{i}", 0) == 0]
    twice = {k: n for k, n in per_event.items() if n > 1}
    timings["flags"] = len(flags)
    check(not no_flag and not twice, f"exactly one suicide-risk Flag per stored write ({len(flags)} Flags for "
                                     f"{len(ids)} writes; none for {no_flag[:5]}; more than one: {list(twice.items())[:5]})")

    timings["scenario_s"] = round(time.monotonic() - t0, 1)
    print("TIMINGS " + json.dumps(timings), flush=True)
    if FAILED:
        log(f"{len(FAILED)} check(s) failed:")
        for f in FAILED:
            log("  " + f)
        sys.exit(1)
    log("all checks passed")


if __name__ == "__main__":
    main()
