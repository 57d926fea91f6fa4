"""`make audit`: every package uv.lock pins, checked by pip-audit against a vulnerability
database (PyPI's by default; pass pip-audit's own options, e.g. `--vulnerability-service osv`).

pip-audit on its own, when no database answers, skips each package and still prints "No known
vulnerabilities found" with exit status 0. Here a package that could not be checked fails the
audit (exit 2), and the message says that nothing was checked rather than that nothing was
found. Exit 1: a locked package has a known vulnerability. Exit 0: every package was checked.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = "no vulnerability database could be reached"
NOT_AUDITED = 2
VULNERABLE = 1
# What pip-audit says when its service does not answer (or answers nothing usable).
NO_ANSWER = re.compile(r"could not be audited|ConnectionError|Could not connect|Max retries"
                       r"|ServiceError|HTTPError|Failed to resolve|timed out|Connection refused")
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")
MARKER = re.compile(r"^(\S+==\S+) ;[^\\]*")  # a pin, then its environment marker


def uv_executable() -> str:
    """The uv that `make` installed beside this interpreter, else one on PATH."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        raise SystemExit("audit: uv is not installed (run `make test` once)")
    return found


def export_lock(target: Path) -> list[str]:
    """Write every package the lock pins (runtime and test, with hashes) as a requirements
    file; return their names. The project itself is left out: it is not on PyPI. Environment
    markers are dropped, or pip-audit would silently pass over the packages this Python does
    not install (async-timeout before 3.11.3, say): each locked release gets checked."""
    exported = subprocess.run(
        [uv_executable(), "export", "--locked", "--all-extras", "--no-emit-project",
         "--format", "requirements-txt", "--no-header", "--quiet"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    lines = [MARKER.sub(r"\1 ", line) for line in exported.splitlines()]
    target.write_text("\n".join(lines) + "\n")
    return [m.group(1) for line in lines if (m := REQUIREMENT.match(line))]


def run_pip_audit(requirements: Path, report: Path, options: list[str]):
    return subprocess.run(
        [sys.executable, "-m", "pip_audit", "--requirement", str(requirements),
         "--require-hashes", "--disable-pip", "--strict", "--progress-spinner", "off",
         "--format", "json", "--output", str(report), *options],
        cwd=ROOT, capture_output=True, text=True)


def not_audited(reason: str) -> int:
    print(f"audit FAILED: {UNREACHABLE} ({reason}).\n"
          "Nothing was checked, so this is not a pass: run it again where PyPI's JSON API "
          "(or OSV, with --vulnerability-service osv) answers.", file=sys.stderr)
    return NOT_AUDITED


def first_reason(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if NO_ANSWER.search(line)]
    return lines[-1] if lines else "pip-audit gave no reason"


def judge(names: list[str], proc: subprocess.CompletedProcess, report: Path) -> int:
    """The audit's outcome from pip-audit's exit status, its output and its JSON report."""
    output = proc.stdout + proc.stderr
    if not report.exists():  # pip-audit stopped before auditing everything (--strict)
        if NO_ANSWER.search(output):
            return not_audited(first_reason(output))
        print(output, file=sys.stderr)
        print(f"audit FAILED: pip-audit stopped (exit {proc.returncode})", file=sys.stderr)
        return proc.returncode or NOT_AUDITED
    results = json.loads(report.read_text())["dependencies"]
    skipped = [d for d in results if d.get("skip_reason")]
    if skipped:
        return not_audited(f"{skipped[0]['name']}: {skipped[0]['skip_reason']}")
    audited = {d["name"].lower() for d in results}
    missing = sorted({n.lower() for n in names} - audited)
    if missing:
        return not_audited(f"no answer for {', '.join(missing)}")
    vulnerable = [d for d in results if d["vulns"]]
    if vulnerable:
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixed = ", ".join(vuln["fix_versions"]) or "no fix yet"
                print(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixed})")
        count = sum(len(d["vulns"]) for d in vulnerable)
        print(f"audit FAILED: known vulnerabilities: {count}, in locked packages: "
              f"{len(vulnerable)}; upgrade them (`make lock`) or pin a fixed release",
              file=sys.stderr)
        return VULNERABLE
    print(f"audit: {len(audited)} locked packages checked: no known vulnerabilities")
    return 0


def main(options: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="qbsync-audit-") as tmp:
        requirements, report = Path(tmp) / "requirements.txt", Path(tmp) / "report.json"
        names = export_lock(requirements)
        proc = run_pip_audit(requirements, report, options)
        return judge(names, proc, report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
