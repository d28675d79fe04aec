"""The retrieve node offers the cards the spec's own image can run: a scientific spec gets
the library cards (NeuroKit2, scikit-learn) at the first draft, a minimal one never does."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.configuration import RunConfig
from agent.nodes.retrieve import retrieve
from agent.spec import load_spec, with_environment

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "ecg-mean-hr" / "spec.yaml"


def _retrieved(environment: str) -> list[str]:
    spec = with_environment(load_spec(SPEC), environment)
    ctx = SimpleNamespace(spec=spec, config=RunConfig(knowledge_k=3), log=lambda _line: None)
    update = retrieve({"subtasks": ""}, SimpleNamespace(context=ctx))
    return update["knowledge_ids"]


@pytest.mark.parametrize("environment", ["minimal", "scientific"])
def test_retrieve_offers_only_cards_the_specs_image_can_run(environment: str) -> None:
    ids = _retrieved(environment)
    library = [i for i in ids if i.startswith(("neurokit2-", "sklearn-"))]
    assert ids, "an ECG heart-rate task has matching cards in either image"
    if environment == "scientific":
        assert library, ids
    else:
        assert not library, ids
