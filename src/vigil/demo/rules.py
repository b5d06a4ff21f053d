"""The detection rules whose alerts the demo contains, with their MITRE ATT&CK mapping in the
shape Kibana stores it on an alert (`kibana.alert.rule.threat`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

_RULE_NAMESPACE = uuid.UUID("0b8a5f8e-6f2d-4c1e-9d0a-6a1f3c5e7b21")
_ATTACK = "https://attack.mitre.org"

# Kibana's default risk score for each severity (the rule form pre-fills these).
RISK_BY_SEVERITY = {"low": 21, "medium": 47, "high": 73, "critical": 99}


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    subtechnique_id: str | None = None
    subtechnique_name: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    severity: str
    tactic_id: str
    tactic_name: str
    technique: Technique
    rule_type: str = "query"

    @property
    def uuid(self) -> str:
        return str(uuid.uuid5(_RULE_NAMESPACE, self.name))

    @property
    def risk_score(self) -> int:
        return RISK_BY_SEVERITY[self.severity]

    def threat(self) -> list[dict[str, Any]]:
        technique: dict[str, Any] = {
            "id": self.technique.id,
            "name": self.technique.name,
            "reference": f"{_ATTACK}/techniques/{self.technique.id}/",
        }
        if self.technique.subtechnique_id:
            sub_path = self.technique.subtechnique_id.replace(".", "/")
            technique["subtechnique"] = [
                {
                    "id": self.technique.subtechnique_id,
                    "name": self.technique.subtechnique_name,
                    "reference": f"{_ATTACK}/techniques/{sub_path}/",
                }
            ]
        return [
            {
                "framework": "MITRE ATT&CK",
                "tactic": {
                    "id": self.tactic_id,
                    "name": self.tactic_name,
                    "reference": f"{_ATTACK}/tactics/{self.tactic_id}/",
                },
                "technique": [technique],
            }
        ]


POWERSHELL_ENCODED = Rule(
    "Suspicious PowerShell Encoded Command",
    "Identifies PowerShell started with an encoded command, often used to hide malicious scripts.",
    "high",
    "TA0002",
    "Execution",
    Technique("T1059", "Command and Scripting Interpreter", "T1059.001", "PowerShell"),
)
OFFICE_CHILD_PROCESS = Rule(
    "Microsoft Office Spawning a Script Interpreter",
    "Identifies an Office application starting a command or script interpreter, typical of malicious macros.",
    "medium",
    "TA0001",
    "Initial Access",
    Technique("T1566", "Phishing", "T1566.001", "Spearphishing Attachment"),
    rule_type="eql",
)
RARE_DOMAIN = Rule(
    "Connection to a Rarely Seen Domain",
    "A host resolved a domain no other host in the organisation has resolved in the last 30 days.",
    "low",
    "TA0011",
    "Command and Control",
    Technique("T1071", "Application Layer Protocol", "T1071.004", "DNS"),
    rule_type="new_terms",
)
LSASS_DUMP = Rule(
    "LSASS Memory Dump via Comsvcs.dll",
    "Identifies rundll32 calling the MiniDump export of comsvcs.dll to dump the LSASS process memory.",
    "critical",
    "TA0006",
    "Credential Access",
    Technique("T1003", "OS Credential Dumping", "T1003.001", "LSASS Memory"),
    rule_type="eql",
)
PSEXEC = Rule(
    "Lateral Movement via PsExec",
    "Identifies PsExec starting a remote service on another host.",
    "high",
    "TA0008",
    "Lateral Movement",
    Technique("T1021", "Remote Services", "T1021.002", "SMB/Windows Admin Shares"),
)
SHADOW_COPY_DELETION = Rule(
    "Volume Shadow Copy Deletion via VssAdmin",
    "Identifies the deletion of volume shadow copies, which ransomware does to prevent recovery.",
    "critical",
    "TA0040",
    "Impact",
    Technique("T1490", "Inhibit System Recovery"),
)
RANSOMWARE = Rule(
    "Ransomware Behavior - Mass File Encryption",
    "A single process renamed many files to the same unknown extension in a short time.",
    "critical",
    "TA0040",
    "Impact",
    Technique("T1486", "Data Encrypted for Impact"),
    rule_type="threshold",
)
SSH_BRUTE_FORCE = Rule(
    "Potential SSH Brute Force Detected",
    "Many failed SSH authentication attempts from one source address in a short time.",
    "medium",
    "TA0006",
    "Credential Access",
    Technique("T1110", "Brute Force", "T1110.001", "Password Guessing"),
    rule_type="threshold",
)
SSH_SUCCESS_AFTER_BRUTE_FORCE = Rule(
    "Successful SSH Login After Brute Force",
    "A successful SSH login from an address that failed to log in many times just before.",
    "high",
    "TA0001",
    "Initial Access",
    Technique("T1078", "Valid Accounts"),
    rule_type="eql",
)
DOWNLOAD_AND_EXECUTE = Rule(
    "Suspicious Download Piped to a Shell",
    "Identifies curl or wget output piped directly into a shell interpreter.",
    "high",
    "TA0002",
    "Execution",
    Technique("T1059", "Command and Scripting Interpreter", "T1059.004", "Unix Shell"),
)
PORT_SCAN = Rule(
    "Potential Network Port Scan",
    "One source connected to many ports of a host in a short time.",
    "medium",
    "TA0007",
    "Discovery",
    Technique("T1046", "Network Service Discovery"),
    rule_type="threshold",
)
CERTUTIL = Rule(
    "Execution via Certutil Download",
    "Identifies certutil.exe used to download a file, a common living-off-the-land technique.",
    "medium",
    "TA0011",
    "Command and Control",
    Technique("T1105", "Ingress Tool Transfer"),
)
FAILED_LOGINS = Rule(
    "Multiple Failed Logins for One User",
    "A user failed to log in several times in a few minutes.",
    "low",
    "TA0006",
    "Credential Access",
    Technique("T1110", "Brute Force"),
    rule_type="threshold",
)
SUDO_ESCALATION = Rule(
    "Sudo Shell by an Unusual User",
    "A user who rarely uses sudo started a root shell.",
    "medium",
    "TA0004",
    "Privilege Escalation",
    Technique("T1548", "Abuse Elevation Control Mechanism", "T1548.003", "Sudo and Sudo Caching"),
    rule_type="new_terms",
)
RUNDLL32_NETWORK = Rule(
    "Unusual Network Connection via RunDLL32",
    "Identifies rundll32.exe making an outbound network connection.",
    "low",
    "TA0005",
    "Defense Evasion",
    Technique("T1218", "System Binary Proxy Execution", "T1218.011", "Rundll32"),
    rule_type="eql",
)

ALL_RULES = (
    POWERSHELL_ENCODED,
    OFFICE_CHILD_PROCESS,
    RARE_DOMAIN,
    LSASS_DUMP,
    PSEXEC,
    SHADOW_COPY_DELETION,
    RANSOMWARE,
    SSH_BRUTE_FORCE,
    SSH_SUCCESS_AFTER_BRUTE_FORCE,
    DOWNLOAD_AND_EXECUTE,
    PORT_SCAN,
    CERTUTIL,
    FAILED_LOGINS,
    SUDO_ESCALATION,
    RUNDLL32_NETWORK,
)
