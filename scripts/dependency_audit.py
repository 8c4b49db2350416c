"""`make audit`: known vulnerabilities in every installed package (runtime and dev), by pip-audit.

pip-audit asks a vulnerability database about each package: PyPI's JSON API (its
`vulnerabilities` field) or OSV. Many machines reach neither (a PyPI mirror serves only
the simple index), and then pip-audit still prints "No known vulnerabilities found",
having skipped every package. This script never lets that pass for an audit:

- no database reachable: it says the audit was NOT RUN, and why, and exits 0, so CI
  does not fail for lack of network;
- a database reachable: it runs pip-audit against it and exits 1 on any known
  vulnerability (less the ones accepted in ACCEPTED below, each with its reason) and
  lists every package it could not audit.
"""

import json
import subprocess
import sys
import urllib.error
import urllib.request

# Vulnerability ids accepted after review: {"GHSA-...": "why it does not apply to us"}.
ACCEPTED: dict[str, str] = {}
PROBE_TIMEOUT_S = 10

_opener = urllib.request.build_opener()


def _pypi_reachable() -> bool:
    try:
        with _opener.open("https://pypi.org/pypi/pip/json", timeout=PROBE_TIMEOUT_S) as response:
            return "vulnerabilities" in json.load(response)
    except (OSError, ValueError):
        return False


def _osv_reachable() -> bool:
    query = json.dumps({"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "20.0"}).encode()
    request = urllib.request.Request(
        "https://api.osv.dev/v1/query", data=query, headers={"Content-Type": "application/json"}
    )
    try:
        with _opener.open(request, timeout=PROBE_TIMEOUT_S) as response:
            return "vulns" in json.load(response)
    except (OSError, ValueError):
        return False


def main() -> int:
    service = "pypi" if _pypi_reachable() else "osv" if _osv_reachable() else None
    if service is None:
        print(
            "dependency audit NOT RUN: no vulnerability database is reachable from this machine "
            "(PyPI's JSON API https://pypi.org/pypi/<name>/json and OSV https://api.osv.dev both failed). "
            "Run `make audit` where one is."
        )
        return 0
    command = [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off", "-s", service]
    for vulnerability_id in ACCEPTED:
        command += ["--ignore-vuln", vulnerability_id]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (fixed arguments)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        print(f"pip-audit failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
        return 1
    dependencies = report["dependencies"]
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    audited = len(dependencies) - len(skipped)
    if audited == 0:
        reason = skipped[0]["skip_reason"] if skipped else "no packages found"
        print(f"dependency audit NOT RUN: {service} answered the probe, but no package could be audited ({reason})")
        return 0
    print(f"dependency audit against {service}: {audited} packages audited, {len(skipped)} not auditable")
    for dep in skipped:
        print(f"  not audited: {dep['name']} {dep.get('version', '')}: {dep['skip_reason']}")
    for dep in vulnerable:
        for vulnerability in dep["vulns"]:
            fixes = ", ".join(vulnerability.get("fix_versions") or []) or "no fix yet"
            print(f"  VULNERABLE: {dep['name']} {dep['version']}: {vulnerability['id']} (fixed in {fixes})")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
