"""The fictional organisation the demo data describes: its hosts, people, services and the
outside addresses that attack it. Plain constants, so the generators and the evaluation's
questions agree on names."""

from __future__ import annotations

from dataclasses import dataclass

SPACE = "default"


@dataclass(frozen=True)
class Host:
    name: str
    ip: str
    os_name: str
    os_family: str  # ECS host.os.family: windows, linux
    role: str  # workstation, server, node


@dataclass(frozen=True)
class Person:
    name: str  # user.name
    full_name: str
    email: str
    department: str
    workstation: str  # host.name of their machine


WORKSTATIONS = (
    Host("wks-fin-01", "10.10.1.21", "Windows", "windows", "workstation"),
    Host("wks-fin-02", "10.10.1.22", "Windows", "windows", "workstation"),
    Host("wks-hr-01", "10.10.2.31", "Windows", "windows", "workstation"),
    Host("wks-dev-01", "10.10.3.41", "macOS", "macos", "workstation"),
    Host("wks-dev-02", "10.10.3.42", "Ubuntu", "linux", "workstation"),
    Host("wks-sales-01", "10.10.4.51", "Windows", "windows", "workstation"),
)
SERVERS = (
    Host("srv-dc-01", "10.20.0.10", "Windows Server", "windows", "server"),
    Host("srv-file-01", "10.20.0.20", "Windows Server", "windows", "server"),
    Host("srv-db-01", "10.20.0.30", "Ubuntu", "linux", "server"),
    Host("srv-web-01", "10.20.0.40", "Ubuntu", "linux", "server"),
    Host("bastion-01", "10.20.0.5", "Ubuntu", "linux", "server"),
)
NODES = (
    Host("k8s-node-1", "10.30.0.11", "Ubuntu", "linux", "node"),
    Host("k8s-node-2", "10.30.0.12", "Ubuntu", "linux", "node"),
    Host("k8s-node-3", "10.30.0.13", "Ubuntu", "linux", "node"),
)
ENDPOINTS = WORKSTATIONS + SERVERS
ALL_HOSTS = ENDPOINTS + NODES
HOSTS_BY_NAME = {host.name: host for host in ALL_HOSTS}

DOMAIN = "acme.example"
PEOPLE = (
    Person("alice.nguyen", "Alice Nguyen", "alice.nguyen@acme.example", "finance", "wks-fin-01"),
    Person("bob.smith", "Bob Smith", "bob.smith@acme.example", "finance", "wks-fin-02"),
    Person("carol.okafor", "Carol Okafor", "carol.okafor@acme.example", "hr", "wks-hr-01"),
    Person("dmitri.schmidt", "Dmitri Schmidt", "dmitri.schmidt@acme.example", "engineering", "wks-dev-01"),
    Person("erin.garcia", "Erin Garcia", "erin.garcia@acme.example", "engineering", "wks-dev-02"),
    Person("farah.tanaka", "Farah Tanaka", "farah.tanaka@acme.example", "sales", "wks-sales-01"),
)
PEOPLE_BY_NAME = {person.name: person for person in PEOPLE}
ADMINS = ("administrator", "svc_backup", "root")

# Where the attacks come from (documentation ranges, never real addresses).
BRUTE_FORCE_IP = "203.0.113.45"
C2_IP = "198.51.100.23"
C2_DOMAIN = "cdn-update.badcdn.example"
SCANNER_IP = "192.0.2.77"
EXTERNAL_CLIENT_IPS = tuple(f"198.18.{i}.{j}" for i in range(1, 4) for j in (10, 20, 30, 40))

BENIGN_DOMAINS = (
    "login.microsoftonline.com",
    "outlook.office365.com",
    "github.com",
    "pypi.org",
    "slack.com",
    "zoom.us",
    "updates.acme.example",
    "intranet.acme.example",
)

# Observability: the shop's microservices, on the Kubernetes nodes.
SERVICES = ("frontend", "checkout", "cart", "payment", "inventory", "shipping")
SERVICE_PATHS = {
    "frontend": ("/", "/products", "/product/{id}", "/search"),
    "checkout": ("/api/checkout", "/api/checkout/confirm"),
    "cart": ("/api/cart", "/api/cart/items"),
    "payment": ("/api/payment/authorize", "/api/payment/capture"),
    "inventory": ("/api/inventory/reserve", "/api/stock/{id}"),
    "shipping": ("/api/shipping/quote", "/api/shipping/label"),
}
SERVICE_NODES = {
    "frontend": "k8s-node-1",
    "checkout": "k8s-node-2",
    "cart": "k8s-node-1",
    "payment": "k8s-node-3",
    "inventory": "k8s-node-3",
    "shipping": "k8s-node-2",
}
SERVICE_VERSIONS = {
    "frontend": "2.14.0",
    "checkout": "3.2.1",
    "cart": "1.9.4",
    "payment": "4.0.2",
    "inventory": "1.3.0",
    "shipping": "2.0.7",
}
REGION = "eu-west-1"

# The indices the demo fills (data streams are named type-dataset-namespace, as Elastic does).
SECURITY_ALERTS_INDEX = f".alerts-security.alerts-{SPACE}"
APM_ALERTS_INDEX = f".alerts-observability.apm.alerts-{SPACE}"
METRICS_ALERTS_INDEX = f".alerts-observability.metrics.alerts-{SPACE}"
PROCESS_INDEX = "logs-endpoint.events.process-default"
AUTH_INDEX = "logs-system.auth-default"
DNS_INDEX = "logs-network_traffic.dns-default"
SERVICE_LOGS_INDEX = "logs-services-default"
METRICS_INDEX = "metrics-system-default"
