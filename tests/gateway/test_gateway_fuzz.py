"""libFuzzer run of the frame parser: no crash, no sanitizer report, and (asserted inside the
fuzzer) no frame delivered unless it comes from a line whose CRC is right."""
import os
import re
import shutil
import subprocess

import pytest

from testbed.gateway_harness import CPP_DIR, DATA_DIR, build_fuzzer, make_frame, OUR_FIELDS, SEED_FIELDS

FUZZ_SECONDS = int(os.environ.get("GATEWAY_FUZZ_SECONDS", "15"))


def make_corpus(path):
    path.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in sorted(DATA_DIR.iterdir()):
        if f.is_file():
            for line in f.read_bytes().splitlines(keepends=True)[:20]:
                (path / f"seed{n}").write_bytes(line)
                n += 1
    (path / "our").write_bytes(make_frame(OUR_FIELDS))
    (path / "seed").write_bytes(make_frame(SEED_FIELDS))
    (path / "two").write_bytes(make_frame(SEED_FIELDS) + b"garbage" + make_frame(OUR_FIELDS, eol=b"\n"))
    return path


def run_fuzzer(binary, corpus, seconds, workdir):
    cmd = [str(binary), f"-max_total_time={seconds}", "-max_len=600", "-timeout=10",
           "-rss_limit_mb=2048", f"-dict={CPP_DIR / 'frame.dict'}", "-print_final_stats=1",
           f"-artifact_prefix={workdir}/", str(corpus)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=workdir)
    out = r.stdout + r.stderr
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    return r.returncode, out, int(m.group(1)) if m else 0


@pytest.mark.slow
def test_fuzz_frame_parser(tmp_path):
    if shutil.which("clang++") is None:
        pytest.skip("clang++ not installed (apt-get install clang libclang-rt-14-dev)")
    binary = build_fuzzer()
    corpus = make_corpus(tmp_path / "corpus")
    rc, out, execs = run_fuzzer(binary, corpus, FUZZ_SECONDS, tmp_path)
    assert rc == 0, out[-5000:]
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "FUZZ INVARIANT BROKEN", "deadly signal"):
        assert marker not in out, out[-5000:]
    assert execs > 10000, f"the fuzzer barely ran ({execs} executions):\n{out[-3000:]}"
    assert not list(tmp_path.glob("crash-*")) and not list(tmp_path.glob("leak-*"))
