"""Where the experience store's similarity floor belongs: the best shipped entry's
similarity for generator dev tasks (whose families the shipped store holds: a twin should be
shown) and for every IoTBench task (whose families it does not hold: nothing should be).
No model runs.

    python benchmarks/experience_similarity.py [--dev 36]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from agent import experience
from agent.spec import Spec, load_spec
from finetune.generators import dev_tasks

ROOT = Path(__file__).resolve().parent.parent


def best(spec: Spec, entries: list[experience.Experience]) -> tuple[str, float]:
    query = "\n".join([spec.title, spec.requirement, spec.function.signature()])
    found = experience.search(query, entries, min_similarity=0.0, exclude_task=spec.id,
                              environment=spec.environment)
    return (found[0][0].task_id, found[0][1]) if found else ("-", 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=int, default=36, help="generator dev tasks to draw")
    args = parser.parse_args()
    entries = experience.read_jsonl(experience.SHIPPED)
    iot = [best(load_spec(p), entries)[1]
           for p in sorted((ROOT / "iotbench" / "tasks").rglob("spec.yaml"))]
    with tempfile.TemporaryDirectory() as tmp:
        dev = [(t.generator, *best(t.spec, entries)) for t in dev_tasks(args.dev, 0, Path(tmp))]
    own = [s for g, task, s in dev if task.startswith(g)]
    floor = experience.MIN_SIMILARITY
    print(f"shipped entries: {len(entries)}; floor {floor}")
    print(f"IoTBench ({len(iot)} tasks): best similarity max {max(iot):.2f}, median "
          f"{sorted(iot)[len(iot) // 2]:.2f}; shown (>= floor): {sum(s >= floor for s in iot)}")
    print(f"dev ({len(dev)} tasks): nearest entry of their own family for {len(own)}; "
          f"similarity min {min(own):.2f}; shown: {sum(s >= floor for _, _, s in dev)}")


if __name__ == "__main__":
    main()
