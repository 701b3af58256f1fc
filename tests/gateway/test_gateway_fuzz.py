"""libFuzzer run of the frame parser: no crash, no sanitizer report, and (asserted inside the
fuzzer) no frame delivered unless it comes from a line whose CRC is right."""
import os
import shutil

import pytest

from testbed.gateway_harness import build_fuzzer, make_fuzz_corpus, run_fuzzer

FUZZ_SECONDS = int(os.environ.get("GATEWAY_FUZZ_SECONDS", "15"))


@pytest.mark.slow
def test_fuzz_frame_parser(tmp_path):
    if shutil.which("clang++") is None:
        pytest.skip("clang++ not installed (apt-get install clang libclang-rt-14-dev)")
    binary = build_fuzzer()
    corpus = make_fuzz_corpus(tmp_path / "corpus")
    rc, out, execs = run_fuzzer(binary, corpus, FUZZ_SECONDS, tmp_path)
    assert rc == 0, out[-5000:]
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "FUZZ INVARIANT BROKEN", "deadly signal"):
        assert marker not in out, out[-5000:]
    assert execs > 10000, f"the fuzzer barely ran ({execs} executions):\n{out[-3000:]}"
    assert not list(tmp_path.glob("crash-*")) and not list(tmp_path.glob("leak-*"))
