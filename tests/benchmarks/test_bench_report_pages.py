"""The report-page benchmark runs end to end on small runs (a smoke run; the numbers are for the benchmark
itself to print, not asserted here)."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO, require

pytestmark = pytest.mark.browser


def test_bench_report_pages_smoke(tmp_path):
    import shutil

    require(shutil.which("chromium") is not None and shutil.which("chromedriver") is not None,
            "headless Chromium/chromedriver not found (Debian: apt-get install chromium chromium-driver)")
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_report_pages.py"), "--samples", "400",
                          "--small", "40", "--repeats", "1", "--keep", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "large/small: report.html size x" in out.stdout and "open time x" in out.stdout
    assert sorted(p.name for p in tmp_path.glob("*.html")) == ["report_40.html", "report_400.html"]
    large = (tmp_path / "report_400.html").read_text()
    assert large.count('<details class="sample"') <= 4 * 50 and "<math" in large
