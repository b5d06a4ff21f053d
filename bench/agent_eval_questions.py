"""Questions an analyst asks about the demo data set, each with a reference ES|QL query.

A generated query is correct when its result equals the reference's (bench/agent_eval.py
compares them as sets of rows, ignoring column names and the order of columns; rows in order
when the question asks for an order). Every reference runs on `vigil demo load`'s data and
returns at least one row (checked by `--check`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    question: str
    reference: str
    ordered: bool = False  # the answer is a ranking or a time series: row order matters


SVC = "FROM logs-services-default"
AUTH = "FROM logs-system.auth-default"
PROC = "FROM logs-endpoint.events.process-default"
DNS = "FROM logs-network_traffic.dns-default"
MET = "FROM metrics-system-default"
ALERTS = "FROM .alerts-security.alerts-default"
APM = "FROM .alerts-observability.apm.alerts-default"
HOST_ALERTS = "FROM .alerts-observability.metrics.alerts-default"
DAY = "@timestamp >= NOW() - 24 hours"

PAIRS: tuple[Pair, ...] = (
    # --- service logs ------------------------------------------------------------------------
    Pair(
        "How many error log lines did the checkout service write in the last 24 hours?",
        f'{SVC} | WHERE service.name == "checkout" AND log.level == "error" AND {DAY} | STATS COUNT(*)',
    ),
    Pair(
        "Error count per hour for the checkout service over the last 24 hours",
        f'{SVC} | WHERE service.name == "checkout" AND log.level == "error" AND {DAY}'
        " | STATS c = COUNT(*) BY b = BUCKET(@timestamp, 1 hour) | SORT b",
        ordered=True,
    ),
    Pair(
        "Which service logged the most errors in the last 7 days?",
        f'{SVC} | WHERE log.level == "error" | STATS c = COUNT(*) BY service.name | SORT c DESC | LIMIT 1'
        " | KEEP service.name",
    ),
    Pair(
        "Number of errors per service in the last 24 hours",
        f'{SVC} | WHERE log.level == "error" AND {DAY} | STATS c = COUNT(*) BY service.name',
    ),
    Pair("How many log lines does each service have?", f"{SVC} | STATS c = COUNT(*) BY service.name"),
    Pair(
        "How many warnings did the frontend service log?",
        f'{SVC} | WHERE service.name == "frontend" AND log.level == "warn" | STATS COUNT(*)',
    ),
    Pair(
        "How many requests were answered with HTTP status 504?",
        f"{SVC} | WHERE http.response.status_code == 504 | STATS COUNT(*)",
    ),
    Pair(
        "Which HTTP status codes did checkout return, and how often?",
        f'{SVC} | WHERE service.name == "checkout" | STATS c = COUNT(*) BY http.response.status_code',
    ),
    Pair(
        "What is the most common error type?",
        f"{SVC} | WHERE error.type IS NOT NULL | STATS c = COUNT(*) BY error.type | SORT c DESC | LIMIT 1"
        " | KEEP error.type",
    ),
    Pair(
        "Which distinct error messages did the payment service log in the last 24 hours?",
        f'{SVC} | WHERE service.name == "payment" AND log.level == "error" AND {DAY} | STATS BY error.message',
    ),
    Pair(
        "On which host does the checkout service run?", f'{SVC} | WHERE service.name == "checkout" | STATS BY host.name'
    ),
    Pair(
        "What is the longest request duration of the shipping service, in nanoseconds?",
        f'{SVC} | WHERE service.name == "shipping" | STATS MAX(event.duration)',
    ),
    Pair(
        "How many failed requests (event outcome failure) did each service have in the last 24 hours?",
        f'{SVC} | WHERE event.outcome == "failure" AND {DAY} | STATS c = COUNT(*) BY service.name',
    ),
    Pair(
        "Which URL path of checkout had the most errors?",
        f'{SVC} | WHERE service.name == "checkout" AND log.level == "error" | STATS c = COUNT(*) BY url.path'
        " | SORT c DESC | LIMIT 1 | KEEP url.path",
    ),
    Pair(
        "How many distinct client IPs called the frontend?",
        f'{SVC} | WHERE service.name == "frontend" | STATS COUNT_DISTINCT(client.ip)',
    ),
    Pair(
        "How many requests per HTTP method did the cart service get?",
        f'{SVC} | WHERE service.name == "cart" | STATS c = COUNT(*) BY http.request.method',
    ),
    Pair(
        "Checkout errors per day over the last week",
        f'{SVC} | WHERE service.name == "checkout" AND log.level == "error"'
        " | STATS c = COUNT(*) BY d = BUCKET(@timestamp, 1 day) | SORT d",
        ordered=True,
    ),
    Pair(
        "Which version of the checkout service is running?",
        f'{SVC} | WHERE service.name == "checkout" | STATS BY service.version',
    ),
    Pair(
        "How many payment gateway timeouts happened?",
        f'{SVC} | WHERE error.message == "payment gateway timeout after 5000ms" | STATS COUNT(*)',
    ),
    Pair(
        "How many log lines with level error are there in total?",
        f'{SVC} | WHERE log.level == "error" | STATS COUNT(*)',
    ),
    Pair(
        "Which services logged a PoolExhaustedError?",
        f'{SVC} | WHERE error.type == "PoolExhaustedError" | STATS BY service.name',
    ),
    Pair(
        "When did checkout log its first error of the last 24 hours?",
        f'{SVC} | WHERE service.name == "checkout" AND log.level == "error" AND {DAY} | STATS MIN(@timestamp)',
    ),
    Pair(
        "How many requests did the inventory service answer in the last 24 hours?",
        f'{SVC} | WHERE service.name == "inventory" AND {DAY} | STATS COUNT(*)',
    ),
    Pair(
        "Top 3 services by number of log lines in the last 24 hours",
        f"{SVC} | WHERE {DAY} | STATS c = COUNT(*) BY service.name | SORT c DESC | LIMIT 3 | KEEP service.name",
        ordered=True,
    ),
    Pair(
        "How many errors did the payment service log per hour in the last 12 hours?",
        f'{SVC} | WHERE service.name == "payment" AND log.level == "error" AND @timestamp >= NOW() - 12 hours'
        " | STATS c = COUNT(*) BY b = BUCKET(@timestamp, 1 hour) | SORT b",
        ordered=True,
    ),
    Pair(
        "Which services run on k8s-node-2?",
        f'{SVC} | WHERE host.name == "k8s-node-2" | STATS BY service.name',
    ),
    Pair(
        "How many HTTP 500 responses were there?",
        f"{SVC} | WHERE http.response.status_code == 500 | STATS COUNT(*)",
    ),
    Pair(
        "How many 4xx responses did the services send?",
        f"{SVC} | WHERE http.response.status_code >= 400 AND http.response.status_code < 500 | STATS COUNT(*)",
    ),
    # --- authentication ----------------------------------------------------------------------
    Pair(
        "How many failed SSH logins were there on bastion-01 in the last 24 hours?",
        f'{AUTH} | WHERE host.name == "bastion-01" AND event.outcome == "failure" AND {DAY} | STATS COUNT(*)',
    ),
    Pair(
        "Which source IP had the most failed logins?",
        f'{AUTH} | WHERE event.outcome == "failure" | STATS c = COUNT(*) BY source.ip | SORT c DESC | LIMIT 1'
        " | KEEP source.ip",
    ),
    Pair(
        "Which users logged in successfully from 203.0.113.45?",
        f'{AUTH} | WHERE source.ip == "203.0.113.45" AND event.outcome == "success" | STATS BY user.name',
    ),
    Pair(
        "Number of failed logins per host",
        f'{AUTH} | WHERE event.outcome == "failure" | STATS c = COUNT(*) BY host.name',
    ),
    Pair(
        "How many successful logins did each user have?",
        f'{AUTH} | WHERE event.outcome == "success" | STATS c = COUNT(*) BY user.name',
    ),
    Pair(
        "Which user names were tried from 203.0.113.45?",
        f'{AUTH} | WHERE source.ip == "203.0.113.45" | STATS BY user.name',
    ),
    Pair(
        "Failed logins per hour on bastion-01 over the last 24 hours",
        f'{AUTH} | WHERE host.name == "bastion-01" AND event.outcome == "failure" AND {DAY}'
        " | STATS c = COUNT(*) BY b = BUCKET(@timestamp, 1 hour) | SORT b",
        ordered=True,
    ),
    Pair(
        "How many distinct users logged in to srv-db-01?",
        f'{AUTH} | WHERE host.name == "srv-db-01" AND event.outcome == "success" | STATS COUNT_DISTINCT(user.name)',
    ),
    Pair(
        "How many Windows logon failures (event code 4625) were recorded?",
        f'{AUTH} | WHERE event.code == "4625" | STATS COUNT(*)',
    ),
    Pair(
        "When did 203.0.113.45 first try to log in?",
        f'{AUTH} | WHERE source.ip == "203.0.113.45" | STATS MIN(@timestamp)',
    ),
    Pair(
        "When did svc_backup last log in successfully?",
        f'{AUTH} | WHERE user.name == "svc_backup" AND event.outcome == "success" | STATS MAX(@timestamp)',
    ),
    Pair("How many authentication events are there per outcome?", f"{AUTH} | STATS c = COUNT(*) BY event.outcome"),
    Pair(
        "How many failed logins did the root account have?",
        f'{AUTH} | WHERE user.name == "root" AND event.outcome == "failure" | STATS COUNT(*)',
    ),
    Pair(
        "Which hosts did administrator log in to?",
        f'{AUTH} | WHERE user.name == "administrator" AND event.outcome == "success" | STATS BY host.name',
    ),
    Pair(
        "How many logins came from 10.10.1.21?",
        f'{AUTH} | WHERE source.ip == "10.10.1.21" | STATS COUNT(*)',
    ),
    Pair(
        "Which source IPs logged in to bastion-01 successfully in the last 24 hours?",
        f'{AUTH} | WHERE host.name == "bastion-01" AND event.outcome == "success" AND {DAY} | STATS BY source.ip',
    ),
    Pair(
        "How many failed logins per user on bastion-01 from 203.0.113.45?",
        f'{AUTH} | WHERE host.name == "bastion-01" AND source.ip == "203.0.113.45" AND event.outcome == "failure"'
        " | STATS c = COUNT(*) BY user.name",
    ),
    Pair(
        "How many logins did alice.nguyen make?",
        f'{AUTH} | WHERE user.name == "alice.nguyen" AND event.outcome == "success" | STATS COUNT(*)',
    ),
    Pair("Which event actions appear in the authentication logs?", f"{AUTH} | STATS BY event.action"),
    # --- processes ---------------------------------------------------------------------------
    Pair(
        "Which processes ran on wks-fin-01 in the last 24 hours?",
        f'{PROC} | WHERE host.name == "wks-fin-01" AND {DAY} | STATS BY process.name',
    ),
    Pair("How many times did powershell.exe run?", f'{PROC} | WHERE process.name == "powershell.exe" | STATS COUNT(*)'),
    Pair("Which hosts ran certutil.exe?", f'{PROC} | WHERE process.name == "certutil.exe" | STATS BY host.name'),
    Pair(
        "What was the parent process of powershell.exe on wks-fin-01?",
        f'{PROC} | WHERE host.name == "wks-fin-01" AND process.name == "powershell.exe" | STATS BY process.parent.name',
    ),
    Pair("How many process starts were there per host?", f"{PROC} | STATS c = COUNT(*) BY host.name"),
    Pair("Which user ran vssadmin.exe?", f'{PROC} | WHERE process.name == "vssadmin.exe" | STATS BY user.name'),
    Pair(
        "What command line did PsExec.exe run?",
        f'{PROC} | WHERE process.name == "PsExec.exe" | STATS BY process.command_line',
    ),
    Pair(
        "What is the most common process on Linux hosts?",
        f'{PROC} | WHERE host.os.family == "linux" | STATS c = COUNT(*) BY process.name | SORT c DESC | LIMIT 1'
        " | KEEP process.name",
    ),
    Pair(
        "How many processes did alice.nguyen start in the last 24 hours?",
        f'{PROC} | WHERE user.name == "alice.nguyen" AND {DAY} | STATS COUNT(*)',
    ),
    Pair(
        "Which processes did svc_backup start on bastion-01?",
        f'{PROC} | WHERE user.name == "svc_backup" AND host.name == "bastion-01" | STATS BY process.name',
    ),
    Pair("How many distinct process names were seen?", f"{PROC} | STATS COUNT_DISTINCT(process.name)"),
    Pair("Which hosts had sudo executions?", f'{PROC} | WHERE process.name == "sudo" | STATS BY host.name'),
    Pair(
        "How many times did curl run in the last 24 hours?",
        f'{PROC} | WHERE process.name == "curl" AND {DAY} | STATS COUNT(*)',
    ),
    Pair(
        "Which processes did WINWORD.EXE start?",
        f'{PROC} | WHERE process.parent.name == "WINWORD.EXE" | STATS BY process.name',
    ),
    Pair(
        "Which hosts ran rundll32.exe with comsvcs.dll?",
        f'{PROC} | WHERE process.name == "rundll32.exe" AND process.command_line LIKE "*comsvcs*" | STATS BY host.name',
    ),
    Pair(
        "Top 3 processes on wks-fin-01 by number of starts",
        f'{PROC} | WHERE host.name == "wks-fin-01" | STATS c = COUNT(*) BY process.name | SORT c DESC, process.name'
        " | LIMIT 3"
        " | KEEP process.name",
        ordered=True,
    ),
    Pair(
        "How many processes ran on srv-file-01 in the last 24 hours?",
        f'{PROC} | WHERE host.name == "srv-file-01" AND {DAY} | STATS COUNT(*)',
    ),
    Pair(
        "Which executables ran from a folder named Public?",
        f'{PROC} | WHERE process.executable LIKE "*Public*" | STATS BY process.executable',
    ),
    Pair("How many process events per OS family?", f"{PROC} | STATS c = COUNT(*) BY host.os.family"),
    Pair(
        "Which users started processes on srv-db-01?", f'{PROC} | WHERE host.name == "srv-db-01" | STATS BY user.name'
    ),
    Pair(
        "When did svchost32.exe first run?",
        f'{PROC} | WHERE process.name == "svchost32.exe" | STATS MIN(@timestamp)',
    ),
    Pair(
        "How many times did cmd.exe appear as a parent process?",
        f'{PROC} | WHERE process.parent.name == "cmd.exe" | STATS COUNT(*)',
    ),
    # --- DNS ---------------------------------------------------------------------------------
    Pair(
        "Which 5 domains did wks-fin-01 resolve most often?",
        f'{DNS} | WHERE host.name == "wks-fin-01" | STATS c = COUNT(*) BY dns.question.name'
        " | SORT c DESC, dns.question.name"
        " | LIMIT 5 | KEEP dns.question.name",
        ordered=True,
    ),
    Pair(
        "How many queries went to cdn-update.badcdn.example?",
        f'{DNS} | WHERE dns.question.name == "cdn-update.badcdn.example" | STATS COUNT(*)',
    ),
    Pair(
        "Which hosts resolved cdn-update.badcdn.example?",
        f'{DNS} | WHERE dns.question.name == "cdn-update.badcdn.example" | STATS BY host.name',
    ),
    Pair(
        "When was cdn-update.badcdn.example first resolved?",
        f'{DNS} | WHERE dns.question.name == "cdn-update.badcdn.example" | STATS MIN(@timestamp)',
    ),
    Pair(
        "How many DNS queries per host in the last 24 hours?", f"{DNS} | WHERE {DAY} | STATS c = COUNT(*) BY host.name"
    ),
    Pair(
        "How many distinct domains did farah.tanaka resolve?",
        f'{DNS} | WHERE user.name == "farah.tanaka" | STATS COUNT_DISTINCT(dns.question.name)',
    ),
    Pair(
        "Queries per hour to the badcdn domain over the last 24 hours",
        f'{DNS} | WHERE dns.question.name LIKE "*badcdn*" AND {DAY}'
        " | STATS c = COUNT(*) BY b = BUCKET(@timestamp, 1 hour)"
        " | SORT b",
        ordered=True,
    ),
    Pair(
        "Which IP does cdn-update.badcdn.example resolve to?",
        f'{DNS} | WHERE dns.question.name == "cdn-update.badcdn.example" | STATS BY dns.resolved_ip',
    ),
    Pair("Which domains were resolved at all?", f"{DNS} | STATS BY dns.question.name"),
    Pair("How many DNS queries were made in total?", f"{DNS} | STATS COUNT(*)"),
    Pair(
        "Which users resolved github.com?",
        f'{DNS} | WHERE dns.question.name == "github.com" | STATS BY user.name',
    ),
    Pair(
        "How many DNS queries did each user make in the last 24 hours?",
        f"{DNS} | WHERE {DAY} | STATS c = COUNT(*) BY user.name",
    ),
    # --- host metrics ------------------------------------------------------------------------
    Pair(
        "Which host had the highest CPU usage in the last 24 hours?",
        f"{MET} | WHERE {DAY} | STATS m = MAX(system.cpu.total.norm.pct) BY host.name | SORT m DESC, host.name"
        " | LIMIT 1"
        " | KEEP host.name",
    ),
    Pair(
        "What was the average CPU usage of k8s-node-2 in the last 24 hours?",
        f'{MET} | WHERE host.name == "k8s-node-2" AND {DAY} | STATS AVG(system.cpu.total.norm.pct)',
    ),
    Pair(
        "Which hosts went above 90% CPU in the last 24 hours?",
        f"{MET} | WHERE system.cpu.total.norm.pct > 0.9 AND {DAY} | STATS BY host.name",
    ),
    Pair(
        "Average memory usage per OS family",
        f"{MET} | STATS AVG(system.memory.actual.used.pct) BY host.os.family",
    ),
    Pair(
        "What was the maximum memory usage of any host?",
        f"{MET} | STATS MAX(system.memory.actual.used.pct)",
    ),
    Pair(
        "How many CPU samples of k8s-node-2 were above 90%?",
        f'{MET} | WHERE host.name == "k8s-node-2" AND system.cpu.total.norm.pct > 0.9 | STATS COUNT(*)',
    ),
    Pair(
        "Top 3 hosts by average CPU over the week",
        f"{MET} | STATS a = AVG(system.cpu.total.norm.pct) BY host.name | SORT a DESC | LIMIT 3 | KEEP host.name",
        ordered=True,
    ),
    Pair(
        "Maximum CPU of srv-file-01 per hour over the last 6 hours",
        f'{MET} | WHERE host.name == "srv-file-01" AND @timestamp >= NOW() - 6 hours'
        " | STATS m = MAX(system.cpu.total.norm.pct) BY b = BUCKET(@timestamp, 1 hour) | SORT b",
        ordered=True,
    ),
    Pair("How many hosts report metrics?", f"{MET} | STATS COUNT_DISTINCT(host.name)"),
    Pair(
        "What was the lowest CPU usage of bastion-01?",
        f'{MET} | WHERE host.name == "bastion-01" | STATS MIN(system.cpu.total.norm.pct)',
    ),
    # --- security alerts ---------------------------------------------------------------------
    Pair(
        "How many open critical alerts are there?",
        f'{ALERTS} | WHERE kibana.alert.severity == "critical" AND kibana.alert.workflow_status == "open"'
        " | STATS COUNT(*)",
    ),
    Pair(
        "How many alerts per severity in the last 24 hours?",
        f"{ALERTS} | WHERE {DAY} | STATS c = COUNT(*) BY kibana.alert.severity",
    ),
    Pair(
        "Which rule fired most often this week?",
        f"{ALERTS} | STATS c = COUNT(*) BY kibana.alert.rule.name | SORT c DESC | LIMIT 1"
        " | KEEP kibana.alert.rule.name",
    ),
    Pair(
        "Which hosts have open alerts?",
        f'{ALERTS} | WHERE kibana.alert.workflow_status == "open" | STATS BY host.name',
    ),
    Pair(
        "Which rules produced the highest risk open alerts?",
        f'{ALERTS} | WHERE kibana.alert.workflow_status == "open" AND kibana.alert.risk_score == 99'
        " | STATS BY kibana.alert.rule.name",
    ),
    Pair(
        "How many alerts per MITRE ATT&CK tactic?",
        f"{ALERTS} | STATS c = COUNT(*) BY kibana.alert.rule.threat.tactic.name",
    ),
    Pair("How many alerts were closed?", f'{ALERTS} | WHERE kibana.alert.workflow_status == "closed" | STATS COUNT(*)'),
    Pair(
        "Which rules fired on bastion-01?",
        f'{ALERTS} | WHERE host.name == "bastion-01" | STATS BY kibana.alert.rule.name',
    ),
    Pair("How many alerts per workflow status?", f"{ALERTS} | STATS c = COUNT(*) BY kibana.alert.workflow_status"),
    Pair(
        "Which users appear in critical alerts?",
        f'{ALERTS} | WHERE kibana.alert.severity == "critical" | STATS BY user.name',
    ),
    Pair(
        "Which MITRE technique ids appear in alerts of the last 24 hours?",
        f"{ALERTS} | WHERE {DAY} | STATS BY kibana.alert.rule.threat.technique.id",
    ),
    Pair(
        "Alerts per day over the last week",
        f"{ALERTS} | STATS c = COUNT(*) BY d = BUCKET(@timestamp, 1 day) | SORT d",
        ordered=True,
    ),
    Pair(
        "What is the rule name of the newest alert?",
        f"{ALERTS} | SORT @timestamp DESC | LIMIT 1 | KEEP kibana.alert.rule.name",
    ),
    Pair("How many alerts per rule type?", f"{ALERTS} | STATS c = COUNT(*) BY kibana.alert.rule.type"),
    Pair(
        "What is the average risk score of open alerts?",
        f'{ALERTS} | WHERE kibana.alert.workflow_status == "open" | STATS AVG(kibana.alert.risk_score)',
    ),
    Pair(
        "How many acknowledged alerts are there in the last 24 hours?",
        f'{ALERTS} | WHERE kibana.alert.workflow_status == "acknowledged" AND {DAY} | STATS COUNT(*)',
    ),
    Pair(
        "Which hosts had alerts for the Impact tactic?",
        f'{ALERTS} | WHERE kibana.alert.rule.threat.tactic.name == "Impact" | STATS BY host.name',
    ),
    Pair(
        "How many high severity alerts were there this week?",
        f'{ALERTS} | WHERE kibana.alert.severity == "high" | STATS COUNT(*)',
    ),
    # --- observability alerts ----------------------------------------------------------------
    Pair("Which services had APM alerts?", f"{APM} | STATS BY service.name"),
    Pair(
        "How many observability host alerts are still active?",
        f'{HOST_ALERTS} | WHERE kibana.alert.status == "active" | STATS COUNT(*)',
    ),
    Pair(
        "What was the highest error count of the checkout error count alerts?",
        f'{APM} | WHERE kibana.alert.rule.name == "Checkout error count" | STATS MAX(kibana.alert.evaluation.value)',
    ),
    Pair("Which hosts had CPU alerts?", f"{HOST_ALERTS} | STATS BY host.name"),
    Pair("How many APM alerts per rule?", f"{APM} | STATS c = COUNT(*) BY kibana.alert.rule.name"),
    Pair(
        "How many APM alerts were raised in the last 24 hours?",
        f"{APM} | WHERE kibana.alert.start >= NOW() - 24 hours | STATS COUNT(*)",
    ),
)
