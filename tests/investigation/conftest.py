"""Investigation tests share one demo data set, loaded into the session server once, the way an
operator does it: `vigil demo load` run as a command against the server's HTTP API."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime

import pytest

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER
from vigil.demo.dataset import default_end, generate
from vigil.demo.documents import DemoDocument, iso


@dataclass(frozen=True)
class LoadedDemo:
    end: datetime
    documents: list[DemoDocument]
    output: str

    def of(self, index: str) -> list[DemoDocument]:
        return [d for d in self.documents if d.index == index]


@pytest.fixture(scope="session")
def demo(base_url: str) -> LoadedDemo:
    end = default_end()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    environment["COLUMNS"] = "200"
    command = [sys.executable, "-m", "vigil", "demo", "load", "--url", base_url, "--end", iso(end)]
    command += ["--user", ADMIN_USER, "--password", ADMIN_PASSWORD]
    loaded = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    return LoadedDemo(end, generate(end=end), loaded.stdout)
