"""README's two commands on a fresh clone (issue 28 item 1): ``make test`` does all the set-up the suite
needs -- the virtualenv and the report tests' headless chromium, through the one script CI uses too
(``.ci/install-browser.sh``, shared, not copied) -- and ``.ci/run`` is just ``make test``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "install-browser.sh"


def test_readme_names_the_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands\n(.*?)\n## ", readme, re.S).group(1)
    assert re.findall(r"^make (\w+)", block, re.M) == ["demo", "test"]
    assert ".ci/install-browser.sh" in block
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#")]
    assert ci[-1] == "make test"
    assert "apt-get" not in (ROOT / ".ci" / "run").read_text()  # the browser step lives in one script


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None, reason="needs make and git")
def test_make_test_on_a_fresh_clone_installs_venv_and_browser_then_runs_pytest(tmp_path):
    """``make -n test`` in a fresh clone (no .venv): the venv install, the browser script, then pytest."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    for name in ("Makefile", "README.md", ".ci/run", ".ci/install-browser.sh"):  # this working tree's version
        (clone / name).write_bytes((ROOT / name).read_bytes())
    plan = subprocess.run(["make", "-n", "test"], cwd=clone, capture_output=True, text=True, check=True).stdout
    lines = plan.splitlines()
    install = next(i for i, line in enumerate(lines) if "pip install" in line and "requirements-cpu.txt" in line)
    browser = next(i for i, line in enumerate(lines) if line.strip() == "bash .ci/install-browser.sh")
    pytest_at = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert install < pytest_at and browser < pytest_at


def _stubs(folder: Path, *, uid: int, have_browser: bool) -> Path:
    """A PATH of stub programs: ``id``, ``apt-get`` and ``sudo`` log their calls; apt installs stubs."""
    folder.mkdir()
    log = folder / "calls.log"
    scripts = {
        "id": f"#!/bin/bash\necho {uid}\n",
        "apt-get": f'#!/bin/bash\necho "apt-get $*" >> {log}\n'
                   f'if [ "$1" = install ]; then printf "#!/bin/bash\\n" > {folder}/chromium; '
                   f"/bin/cp {folder}/chromium {folder}/chromedriver; "
                   f"/bin/chmod +x {folder}/chromium {folder}/chromedriver; fi\n",
        "sudo": f'#!/bin/bash\necho "sudo $*" >> {log}\nif [ "$1" = -n ]; then shift; fi\n'
                f'[ "$1" = true ] && exit 0\n"$@"\n',
    }
    if have_browser:
        scripts |= {"chromium": "#!/bin/bash\n", "chromedriver": "#!/bin/bash\n"}
    for name, text in scripts.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return log


def _run_script(stub_dir: Path) -> subprocess.CompletedProcess:
    env = {"PATH": str(stub_dir), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True)


def test_browser_script_installs_with_apt_when_missing_as_root(tmp_path):
    log = _stubs(tmp_path / "bin", uid=0, have_browser=False)
    done = _run_script(tmp_path / "bin")
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == [
        "apt-get update -qq", "apt-get install -y -qq --no-install-recommends chromium chromium-driver"]
    again = _run_script(tmp_path / "bin")  # idempotent: both now on PATH, apt is not called again
    assert again.returncode == 0 and len(log.read_text().splitlines()) == 2


def test_browser_script_uses_sudo_when_not_root_and_nothing_when_present(tmp_path):
    log = _stubs(tmp_path / "bin", uid=1000, have_browser=False)
    assert _run_script(tmp_path / "bin").returncode == 0
    calls = log.read_text().splitlines()
    assert "sudo -n apt-get install -y -qq --no-install-recommends chromium chromium-driver" in calls
    log2 = _stubs(tmp_path / "bin2", uid=1000, have_browser=True)
    assert _run_script(tmp_path / "bin2").returncode == 0 and not log2.exists()
