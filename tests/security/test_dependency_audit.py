"""The dependency audit's verdict on pip-audit reports: what fails the run and what does not."""

import importlib.util
import json
import os
import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("dependency_audit", ROOT / "scripts" / "dependency_audit.py")
audit = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = audit  # dataclasses look their module up
spec.loader.exec_module(audit)

TODAY = date(2026, 11, 29)


def report(*dependencies):
    return {"dependencies": list(dependencies)}


def clean(name="flask", version="3.1.3"):
    return {"name": name, "version": version, "vulns": []}


def vulnerable(name="werkzeug", version="3.0.0", vuln_id="PYSEC-2099-1", aliases=("GHSA-aaaa-bbbb-cccc",)):
    return {"name": name, "version": version,
            "vulns": [{"id": vuln_id, "aliases": list(aliases), "fix_versions": ["3.0.9"]}]}


def skipped(name="jinja2"):
    return {"name": name, "skip_reason": "Dependency not found on PyPI and could not be audited"}


def ack(text):
    return audit.read_allowlist(text)


def test_a_known_vulnerability_fails_the_run_and_names_the_fix():
    result = audit.verdict(report(clean(), vulnerable()), [], TODAY, required=False)
    assert not result.ok
    assert any("werkzeug 3.0.0" in line and "PYSEC-2099-1" in line and "3.0.9" in line for line in result.lines)


def test_no_vulnerability_passes_and_says_how_many_were_checked():
    result = audit.verdict(report(clean(), clean("jinja2")), [], TODAY, required=True)
    assert result.ok and result.audited == 2
    assert "2 paquets vérifiés" in result.lines[-1]


def test_an_acknowledged_vulnerability_passes_until_its_expiry_date():
    allowlist = ack("PYSEC-2099-1  werkzeug  2026-12-31  le débogueur n'est jamais activé (A. Martin)\n")
    result = audit.verdict(report(vulnerable()), allowlist, TODAY, required=False)
    assert result.ok
    assert any(line.startswith("Acquitté jusqu'au 31/12/2026") for line in result.lines)

    later = audit.verdict(report(vulnerable()), allowlist, date(2027, 1, 1), required=False)
    assert not later.ok
    assert any("expiré" in line for line in later.lines)


def test_an_alias_acknowledges_too_but_only_for_the_named_package():
    by_alias = ack("GHSA-aaaa-bbbb-cccc  Werkzeug  2027-01-31  faux positif\n")
    assert audit.verdict(report(vulnerable()), by_alias, TODAY, required=False).ok
    other_package = ack("PYSEC-2099-1  flask  2027-01-31  pas le bon paquet\n")
    assert not audit.verdict(report(vulnerable()), other_package, TODAY, required=False).ok


def test_an_audit_that_could_not_check_is_never_reported_clean():
    result = audit.verdict(report(skipped(), skipped("flask")), [], TODAY, required=False)
    assert result.ok  # a warning on a machine without access to the database
    assert not any("aucune vulnérabilité" in line for line in result.lines)
    assert any("impossible pour 2 paquet(s) sur 2" in line for line in result.lines)

    required = audit.verdict(report(skipped(), clean()), [], TODAY, required=True)
    assert not required.ok


def test_a_malformed_allowlist_line_stops_the_audit():
    with pytest.raises(SystemExit, match="ligne 2"):
        ack("# commentaire\nPYSEC-2099-1 werkzeug 31/12/2026 mauvaise date\n")
    with pytest.raises(SystemExit):
        ack("PYSEC-2099-1 werkzeug\n")


def test_the_project_allowlist_is_well_formed():
    assert isinstance(ack((ROOT / "audit-allowlist.txt").read_text(encoding="utf-8")), list)


# ---------------------------------------------------------------- the real pip-audit, end to end

class FakeOsv(BaseHTTPRequestHandler):
    """An OSV query endpoint that knows one vulnerability: in the installed Flask."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = {}
        if query["package"]["name"] == "flask":
            body = {"vulns": [{"id": "PYSEC-2099-42", "aliases": ["CVE-2099-0042"], "summary": "test",
                               "affected": [{"package": {"name": "flask", "ecosystem": "PyPI"},
                                             "ranges": [{"type": "ECOSYSTEM",
                                                         "events": [{"introduced": "0"}, {"fixed": "99.0"}]}]}]}]}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def osv_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()


def run_audit(osv_url, allowlist: Path):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "dependency_audit.py")],
                          env={**os.environ, "AUDIT_OSV_URL": osv_url, "AUDIT_REQUIRED": "1",
                               "AUDIT_ALLOWLIST": str(allowlist)},
                          capture_output=True, text=True, timeout=120)


def test_make_test_fails_on_a_vulnerable_installed_package_until_it_is_acknowledged(osv_url, tmp_path):
    allowlist = tmp_path / "allowlist.txt"
    allowlist.write_text("# rien d'acquitté\n")
    refused = run_audit(osv_url, allowlist)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Vulnérabilité connue : flask" in refused.stdout and "PYSEC-2099-42" in refused.stdout

    allowlist.write_text("CVE-2099-0042  flask  2099-12-31  faux positif du test (banc)\n")
    accepted = run_audit(osv_url, allowlist)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "Acquitté jusqu'au 31/12/2099" in accepted.stdout
    assert "aucune vulnérabilité connue non acquittée" in accepted.stdout
