"""The documentation's example frames carry the right CRC (users copy them to test their set-up),
and the README's figures are those of the last benchmark run."""
import json
import re

import pytest
from testbed.readme_figures import BEGIN, END, render
from testbed.simrun import ROOT

from testbed.gateway_harness import crc8_maxim

DOCS = ["README.md", "docs/interfaces.md", "atmega/README.md", "docs/gateway.md"]
FRAME = re.compile(r"((?:[A-Z0-9]{3}>[-0-9.]+;)+)\$(\d+)")


def example_frames():
    for doc in DOCS:
        for body, crc in FRAME.findall((ROOT / doc).read_text()):
            yield pytest.param(body, int(crc), id=f"{doc}:{body[:16]}")


@pytest.mark.parametrize("body,crc", list(example_frames()))
def test_example_frame_crc(body, crc):
    assert crc8_maxim(body.encode()) == crc


def test_the_docs_show_example_frames():
    bodies = [p.values[0] for p in example_frames()]
    assert len(bodies) >= 3


def test_readme_figures_are_those_of_the_last_bench_run():
    """The performance section is generated from bench/results.json (`make bench`), never edited."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    assert block == "\n" + render(results) + "\n"
