"""Dependency audit for `make test`: pip-audit over the lock file requirements/test.txt (every
pinned package, runtime and test tools: run.txt is a part of it), read without installing.

A known vulnerability fails the run, unless it is acknowledged in audit-allowlist.txt with
a reason and an expiry date (after which it fails again). pip-audit exits 0 when it could
not reach its vulnerability database (every package is then merely "skipped"), so this
script reads its JSON report and says plainly how many packages were really checked: an
audit that checked nothing is reported as impossible, never as clean. It then fails only
when AUDIT_REQUIRED=1 (a release pipeline with network access should set it); otherwise it
warns, so that a machine without access to the database can still run the tests.
AUDIT_OSV_URL points pip-audit at an OSV-compatible service (an internal mirror) instead of
PyPI's JSON API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = Path(os.environ.get("AUDIT_ALLOWLIST") or ROOT / "audit-allowlist.txt")
LOCK_FILE = ROOT / "requirements" / "test.txt"


@dataclass
class Acknowledgement:
    vuln_id: str
    package: str
    until: date
    reason: str


@dataclass
class Verdict:
    ok: bool
    lines: list[str] = field(default_factory=list)
    vulnerable: list[str] = field(default_factory=list)
    audited: int = 0
    unaudited: list[str] = field(default_factory=list)


def read_allowlist(text: str) -> list[Acknowledgement]:
    """Lines `ID  package  YYYY-MM-DD  reason…`; `#` starts a comment. A malformed line is an error."""
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 3)
        try:
            if len(parts) < 4:
                raise ValueError("quatre champs attendus")
            until = date.fromisoformat(parts[2])
        except ValueError as exc:
            raise SystemExit(f"{ALLOWLIST.name}, ligne {number} : « {raw.strip()} » ({exc}). "
                             "Format : IDENTIFIANT paquet AAAA-MM-JJ raison") from exc
        found.append(Acknowledgement(parts[0], parts[1].lower(), until, parts[3]))
    return found


def verdict(report: dict, acknowledged: list[Acknowledgement], today: date, required: bool) -> Verdict:
    """What the pip-audit JSON report means for the run."""
    result = Verdict(ok=True)
    active = {(a.vuln_id, a.package): a for a in acknowledged if a.until >= today}
    for expired in (a for a in acknowledged if a.until < today):
        result.lines.append(f"Acquittement expiré le {expired.until:%d/%m/%Y} : {expired.vuln_id} "
                            f"({expired.package}) compte de nouveau.")
    for dependency in report.get("dependencies", []):
        name = dependency.get("name", "?").lower()
        if dependency.get("skip_reason"):
            result.unaudited.append(name)
            continue
        result.audited += 1
        for vuln in dependency.get("vulns", []):
            ids = [vuln.get("id", "?"), *vuln.get("aliases", [])]
            acknowledgement = next((active[(i, name)] for i in ids if (i, name) in active), None)
            fixed = ", ".join(vuln.get("fix_versions", [])) or "aucune version corrigée"
            label = f"{name} {dependency.get('version', '?')} : {' / '.join(ids)} (corrigé dans : {fixed})"
            if acknowledgement:
                result.lines.append(f"Acquitté jusqu'au {acknowledgement.until:%d/%m/%Y} : {label} — "
                                    f"{acknowledgement.reason}")
            else:
                result.vulnerable.append(label)
    if result.vulnerable:
        result.ok = False
        result.lines += ["Vulnérabilité connue : " + v for v in result.vulnerable]
        result.lines.append(f"Mettez le paquet à jour, ou acquittez un faux positif dans {ALLOWLIST.name} "
                            "(identifiant, paquet, date d'expiration, raison).")
    if result.unaudited:
        message = (f"Audit des dépendances impossible pour {len(result.unaudited)} paquet(s) sur "
                   f"{len(result.unaudited) + result.audited} : la base de vulnérabilités n'a pas répondu "
                   f"({', '.join(sorted(result.unaudited)[:5])}{'…' if len(result.unaudited) > 5 else ''}).")
        result.lines.append(message)
        if required:
            result.ok = False
        else:
            result.lines.append("Avertissement seulement (AUDIT_REQUIRED=1 en fait une erreur).")
    if result.ok and not result.unaudited:
        result.lines.append(f"Audit des dépendances : {result.audited} paquets vérifiés, aucune vulnérabilité "
                            "connue non acquittée.")
    return result


def run_pip_audit() -> dict:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    service = ["--vulnerability-service", "osv", "--osv-url", os.environ["AUDIT_OSV_URL"]] \
        if os.environ.get("AUDIT_OSV_URL") else []
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        completed = subprocess.run(
            # Hashed pins are complete: pip-audit reads them as they are, without pip.
            [str(pip_audit), "--requirement", str(LOCK_FILE), "--require-hashes", "--disable-pip",
             "--aliases", "on", "--desc", "off",
             "--progress-spinner", "off", "--timeout", "20", "--cache-dir", str(Path(folder) / "cache"),
             *service, "--format", "json", "--output", str(output)],
            capture_output=True, text=True)
        if output.exists() and output.stat().st_size:
            return json.loads(output.read_text())
        # No report at all (the service could not be reached): nothing was audited.
        sys.stderr.write(completed.stderr[-2000:])
        return {"dependencies": [{"name": "(tous)", "skip_reason": "pip-audit n'a pas produit de rapport"}]}


def main() -> int:
    acknowledged = read_allowlist(ALLOWLIST.read_text(encoding="utf-8")) if ALLOWLIST.exists() else []
    result = verdict(run_pip_audit(), acknowledged, date.today(), os.environ.get("AUDIT_REQUIRED") == "1")
    for line in result.lines:
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
