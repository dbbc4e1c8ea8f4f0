"""Methods text: says what ran, with the options it ran with, and cites in order."""

from __future__ import annotations

import re

import pytest

from harmonstats.analysis.config import BatteryConfig
from harmonstats.report.methods import REFERENCES, methods_text


def _text(thickness: dict, ran: list[str], **battery: object) -> tuple[str, list[str]]:
    paragraphs, refs = methods_text(
        cohorts={"dhcp": 30, "eprime": 30}, reference="dhcp", methods=["original", "latent"],
        schemes={"tissue": "drawem9", "region": "drawem87"}, thickness=thickness,
        ground_truth=None, battery=BatteryConfig(reference="dhcp", **battery).model_dump(),
        ran=ran, software={"numpy": "2.3", "antspyx": "not installed"},
    )
    return " ".join(paragraphs), refs


@pytest.mark.parametrize(
    ("thickness", "cited", "absent"),
    [({"method": "direct", "its": 45, "r": 0.025}, "das", "jones"),
     ({"method": "laplace", "tol": 1e-8}, "jones", "das")],
)
def test_thickness_method_and_parameters(thickness: dict, cited: str, absent: str) -> None:
    text, refs = _text(thickness, ["cohort_effect", "equivalence"])
    assert REFERENCES[cited] in refs and REFERENCES[absent] not in refs
    for key, value in thickness.items():
        if key != "method":
            assert f"{key} = {value}" in text


def test_only_what_ran_is_described() -> None:
    text, refs = _text({"method": "laplace"}, ["cohort_effect", "equivalence"], margin=0.1,
                       caliper=0.2)
    assert "margin of 10% of the reference cohort's mean" in text
    assert "within a caliper of 0.2 pooled SD" in text
    assert "Outcome:" not in text and "ComBat" not in text and "Site prediction" not in text
    assert "Draw-EM" in text
    assert "antspyx" not in text and "numpy 2.3" in text
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    assert numbers == sorted(numbers) and set(numbers) == set(range(1, len(refs) + 1))
